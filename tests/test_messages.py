"""sim.scenario.messages: one way for scenario, sweep and optimise files to report a bad field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from sim.decide import optimise
from sim.scenario import validation
from sim.scenario.messages import describe_error
from sim.sweep import spec


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float
    high: float = 1.0
    name: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.low >= self.high:
            raise ValueError("low must be below high")
        return self


def _messages(data: dict) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        _Range.model_validate(data)
    return [describe_error(e, lambda where: list(_Range.model_fields))
            for e in caught.value.errors()]


def test_each_kind_of_problem_reads_path_value_and_rule():
    assert _messages({"low": 0, "hihg": 2}) == [
        "hihg: unknown key; allowed here: low, high, name; did you mean 'high'?"]
    assert _messages({"high": 2}) == ["low: required field is missing"]
    assert _messages({"low": 2, "high": 1}) == ["(top level): low must be below high"]
    (text,) = _messages({"low": "x" * 100})
    assert text.startswith('low: "xxxx') and 'xxx... is not allowed: ' in text
    assert len(text.split(" is not allowed")[0]) == len("low: ") + 60


def test_scenario_sweep_and_optimise_files_use_the_one_formatter():
    error = {"type": "int_parsing", "loc": ("steps",), "msg": "Input should be an integer",
             "input": "y" * 80}
    expected = describe_error(error, lambda where: [])
    assert validation._describe(error, {}) == expected
    assert spec._describe(error) == expected
    assert optimise._describe(error) == expected

"""The observed record (data/observed, sim/history/observed.py): every row sourced and in range."""

from __future__ import annotations

import re
import shutil

import pytest

from sim.history.observed import (
    COLUMNS,
    CONVENTIONS,
    DERIVED,
    OBSERVABLES,
    PARTNERS,
    STATES,
    ObservedDataError,
    default_folder,
    load_observed,
)

CALIBRATION, OUT_OF_SAMPLE = range(2014, 2020), range(2020, 2025)


@pytest.fixture(scope="module")
def observed():
    return load_observed()


def test_the_shipped_folder_is_the_repository_data_folder():
    folder = default_folder()
    assert folder.parts[-2:] == ("data", "observed")
    assert (folder / "README.md").is_file()
    assert len(list(folder.glob("*.csv"))) >= 3


def test_every_row_has_a_source_a_unit_evidence_and_a_known_convention(observed):
    assert list(observed.columns) == list(COLUMNS)
    assert len(observed) >= 60
    for field in ("source", "evidence", "unit"):
        assert observed[field].str.strip().str.len().gt(10 if field != "unit" else 1).all(), field
    assert set(observed["convention"]) <= set(CONVENTIONS)
    assert set(observed["state"]) <= set(STATES)
    assert set(observed["partner"]) <= set(PARTNERS)
    assert observed["year"].between(2000, 2030).all()


def test_values_are_in_range_and_units_match(observed):
    for name, spec in OBSERVABLES.items():
        rows = observed[observed["observable"] == name]
        assert (rows["unit"] == spec.unit).all(), name
        assert rows["value"].between(spec.low, spec.high).all(), name
    shares = observed[observed["unit"] == "fraction"]["value"]
    assert shares.between(0, 1).all()
    assert (observed[observed["unit"] == "usd_bn"]["value"] > 0).all()


def test_one_convention_per_series_and_no_duplicate_keys(observed):
    per_series = observed.groupby(["state", "partner", "observable"])["convention"].nunique()
    assert (per_series == 1).all(), per_series[per_series > 1]
    assert not observed.duplicated(["year", "state", "partner", "observable"]).any()


def test_derived_values_show_their_arithmetic(observed):
    derived = observed[observed["evidence"].str.startswith(DERIVED)]
    assert len(derived) >= 5
    for _, row in derived.iterrows():
        computation = row["evidence"].split(" from ")[0]
        results = re.findall(r"=\s*([0-9.]+[0-9])", computation)
        assert results, row["evidence"]
        assert float(results[-1]) == pytest.approx(row["value"], rel=0.01), row["evidence"]


def test_main_series_cover_both_windows(observed):
    """The series calibration and the out-of-sample check rely on have points in both windows."""
    main = [("uzbekistan", "china", "trade_share"), ("uzbekistan", "russia", "trade_share"),
            ("tajikistan", "china", "trade_share"), ("tajikistan", "russia", "trade_share"),
            ("kazakhstan", "china", "trade_share"), ("kazakhstan", "china", "trade_usd_bn"),
            ("region", "china", "trade_usd_bn"), ("tajikistan", "russia", "remittances_gdp"),
            ("kyrgyzstan", "russia", "remittances_gdp"),
            ("turkmenistan", "russia", "gas_purchase_bcm")]
    for state, partner, observable in main:
        years = set(observed.query("state == @state and partner == @partner and "
                                   "observable == @observable")["year"])
        assert years & set(CALIBRATION), (state, partner, observable)
        assert years & set(OUT_OF_SAMPLE), (state, partner, observable)


def test_regional_totals_are_chinese_customs_and_states_use_their_own_statistics(observed):
    usd = observed[observed["observable"] == "trade_usd_bn"]
    assert set(usd[usd["state"] == "region"]["convention"]) == {"chinese_customs"}
    hosts = usd[usd["state"].isin(["kazakhstan", "uzbekistan", "kyrgyzstan", "tajikistan"])]
    assert set(hosts["convention"]) == {"host_statistics"}


# Bad input: a clear error naming the file, the line, the field and the value.
GOOD = ('2019,uzbekistan,china,trade_share,0.18,fraction,host_statistics,"A source, 2020",'
        '"derived: 7.6 / 42.2 = 0.180 from quoted figures"\n')
HEADER = ",".join(COLUMNS) + "\n"


def write(folder, name, *lines):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(HEADER + "".join(lines), encoding="utf-8")
    return folder


def test_a_small_good_folder_loads(tmp_path):
    table = load_observed(write(tmp_path / "ok", "a.csv", GOOD))
    assert table.loc[0, "value"] == pytest.approx(0.18) and table.loc[0, "year"] == 2019


@pytest.mark.parametrize("line, words", [
    (GOOD.replace(",0.18,", ",1.5,"), ["a.csv:2", "value 1.5", "trade_share", "0.0 to 1.0"]),
    (GOOD.replace("uzbekistan", "mongolia"), ["a.csv:2", "state 'mongolia'", "kazakhstan"]),
    (GOOD.replace("host_statistics", "guess"), ["convention 'guess'", "chinese_customs"]),
    (GOOD.replace(",fraction,", ",percent,"), ["unit 'percent'", "'fraction'"]),
    (GOOD.replace('"A source, 2020"', '""'), ["source is empty"]),
    (GOOD.replace("2019,", "19,", 1), ["year '19'"]),
    (GOOD.replace(",0.18,", ",abc,"), ["value 'abc' is not a number"]),
    (GOOD.replace("= 0.180 ", ""), ["derived value must show the computation"]),
    ("2019,uzbekistan,china\n", ["3 fields, expected 9"]),
])
def test_a_bad_row_is_named(tmp_path, line, words):
    folder = write(tmp_path / "bad", "a.csv", line)
    with pytest.raises(ObservedDataError) as caught:
        load_observed(folder)
    for word in words:
        assert word in str(caught.value)
    assert caught.value.exit_code == 2


def test_duplicates_and_mixed_conventions_across_files_are_named(tmp_path):
    folder = write(tmp_path / "dup", "a.csv", GOOD)
    write(folder, "b.csv", GOOD)
    with pytest.raises(ObservedDataError, match=r"b\.csv:2: duplicate of a\.csv:2"):
        load_observed(folder)
    shutil.rmtree(folder)
    folder = write(tmp_path / "mixed", "a.csv", GOOD)
    write(folder, "b.csv", GOOD.replace("2019", "2020").replace("host_statistics", "edb"))
    with pytest.raises(ObservedDataError, match=r"uzbekistan/china/trade_share mixes "
                                                r"conventions: host_statistics \(a\.csv:2\); "
                                                r"edb \(b\.csv:2\)"):
        load_observed(folder)


def test_bad_header_missing_folder_and_empty_folder(tmp_path):
    (tmp_path / "hdr").mkdir()
    (tmp_path / "hdr" / "a.csv").write_text("year,state,value\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ObservedDataError, match="a.csv: header year,state,value must be exactly"):
        load_observed(tmp_path / "hdr")
    with pytest.raises(ObservedDataError, match="not found: it ships with the repository"):
        load_observed(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ObservedDataError, match="holds no .csv file"):
        load_observed(tmp_path / "empty")

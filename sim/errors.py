"""The simulator's own error types: the command line turns them into short messages."""

from __future__ import annotations


class SimError(Exception):
    """Base class for errors the user can fix; the CLI prints them without a traceback.

    Every subclass must pickle (an error raised in a pool worker crosses to the parent as
    itself): one that takes other arguments than its message defines ``__reduce__`` to give
    them back (tests/test_bad_input.py round-trips every class through pickle and a pool).
    """

    exit_code = 2


class OptionError(SimError):
    """A command-line option (or its API argument) whose value is not allowed."""


MAX_PROBLEMS_SHOWN = 8
"""A message lists at most this many problems (all are kept in ``ScenarioError.problems``)."""


class ScenarioError(SimError):
    """A scenario or sweep file that cannot be read or does not validate.

    The message lists the first :data:`MAX_PROBLEMS_SHOWN` problems and counts the rest, so a
    badly broken file still gets a message of a few lines.

    Attributes:
        source: The file (or "--set" / "<dict>") where the problem is.
        problems: One line per problem: the field path, the bad value and what is allowed.
    """

    what = "scenario"
    """What kind of file is invalid, for the message's first line."""

    def __init__(self, source: str, problems: list[str]):
        self.source = str(source)
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        lines = [f"{self.source}: invalid {self.what}"] + [f"  - {p}" for p in shown]
        hidden = len(self.problems) - len(shown)
        if hidden:
            lines.append(f"  ... and {hidden} more problem{'s' if hidden > 1 else ''}; "
                         "fix these first")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        """Pickle as (class, (source, problems)): the arguments ``__init__`` takes."""
        return (type(self), (self.source, self.problems), self.__dict__)


class DivergenceError(SimError):
    """A run whose state became non-finite.

    Attributes:
        step: The first step with a non-finite value.
        run: The run index within the batch.
        actor: The power and/or state concerned.
        quantity: The state variable that became non-finite.
        seed: The run's seed (to replay it alone with ``--seed``), if known.
    """

    exit_code = 3

    def __init__(self, step: int, run: int, actor: str, quantity: str, seed: int | None = None,
                 hint: str = "lower the reaction sensitivities or raise the restraint"):
        self.step, self.run, self.actor, self.quantity = step, run, actor, quantity
        self.seed, self.hint = seed, hint
        which = f"run {run}" if seed is None else f"run {run}, seed {seed}"
        super().__init__(
            f"the simulation diverged at step {step} ({which}): {quantity} of {actor} "
            f"is no longer finite; {hint}"
        )

    def __reduce__(self):
        """Pickle as the arguments ``__init__`` takes (a worker's divergence reaches the parent)."""
        return (type(self), (self.step, self.run, self.actor, self.quantity, self.seed,
                             self.hint), self.__dict__)

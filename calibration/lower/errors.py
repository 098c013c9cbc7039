"""The one error the lowering raises: the model uses something the wayvert op set cannot express."""
from __future__ import annotations

from wayvert.errors import BuildError


class LoweringError(BuildError):
    """A model (or one of its ATen ops) cannot be lowered to a wayvert engine.

    ``problems`` lists one line per offending node: the ATen op, the module path it came from
    (``nn_module_stack``) and the user source line (``stack_trace``).
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)

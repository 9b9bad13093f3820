"""The Content API's errors, answered in Ghost's envelope: {"errors": [{...}]}."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered in Ghost's envelope: {"errors": [{"message", "type", "context", ...}]}."""

    def __init__(
        self, status: int, kind: str, message: str, context: str | None = None, code=None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.context = status, kind, message, context
        self.code = code

    def body(self) -> dict:
        """The JSON body Ghost answers an error with."""
        return {
            "errors": [
                {
                    "message": self.message,
                    "context": self.context,
                    "type": self.kind,
                    "details": None,
                    "property": None,
                    "help": None,
                    "code": self.code,
                    "id": None,
                    "ghostErrorCode": None,
                }
            ]
        }

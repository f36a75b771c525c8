"""The business error every emulator rule raises and the HTTP layer answers with."""


class ApiFailure(Exception):
    """An errcode to answer with; `errmsg` overrides the shared table's text when given."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg

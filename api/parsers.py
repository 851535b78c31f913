"""The API's one parser: JSON, refused before parsing when it nests too deep or holds too many values."""

from __future__ import annotations

import io

from rest_framework.parsers import JSONParser

from api.limits import json_shape_problem
from api.problems import ProblemAPIException


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        problem = json_shape_problem(data)
        if problem:
            raise ProblemAPIException(problem)
        return super().parse(io.BytesIO(data), media_type, parser_context)

"""A plain route hands its endpoint the request and nothing else."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from notifier.web.plain_route import PlainRoute


def test_the_endpoint_must_be_a_coroutine_function() -> None:
    def endpoint(request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="coroutine"):
        PlainRoute("/x", endpoint, methods=["POST"])


def test_declared_dependencies_document_but_never_run() -> None:
    ran: list[str] = []

    def dependency() -> None:
        ran.append("dependency")

    async def endpoint(request: Request) -> Response:
        return JSONResponse({"path": request.url.path}, status_code=202)

    app = FastAPI()
    app.router.routes.append(PlainRoute("/x", endpoint, methods=["POST"], status_code=202,
                                        dependencies=[Depends(dependency)]))

    answer = TestClient(app).post("/x")

    assert (answer.status_code, answer.json(), ran) == (202, {"path": "/x"}, [])

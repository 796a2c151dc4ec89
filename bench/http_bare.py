"""The bare endpoints the `http` benchmark group compares against: the same database read and
write as Peerloop's, by hand, on the same framework and server, with no authentication, no
engine and no logging.

`python -m bench.http_bare DB_FILE PORT`
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import uvicorn
from litestar import Litestar, Request, Response, get, post

from adapters.db import create_db_engine
from adapters.tables import CycleRow, HistoryRow

C = CycleRow.__table__
H = HistoryRow.__table__


def create(db_file: str) -> Litestar:
    engine = create_db_engine(f"sqlite:///{db_file}")

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/bare/cycles/{cycle_id:str}", sync_to_thread=True)
    def show(cycle_id: str) -> Response[dict[str, Any]]:
        with engine.connect() as conn:
            row = conn.execute(sa.select(C).where(C.c.id == cycle_id)).one()
        return Response(row._asdict(), headers={"ETag": f'"{row.version}"'})

    @post("/bare/cycles/{cycle_id:str}/move", status_code=200, sync_to_thread=True)
    def move(request: Request[Any, Any, Any], cycle_id: str) -> Response[dict[str, int]]:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            row = conn.execute(
                sa.select(C.c.version, C.c.stage, C.c.history_count).where(C.c.id == cycle_id)
            ).one()
            # The same precondition as Peerloop's: the client's If-Match must be the version.
            if request.headers.get("if-match", f'"{row.version}"') != f'"{row.version}"':
                return Response({"version": row.version}, status_code=412)
            stage = "on_hold" if row.stage != "on_hold" else "self_review"
            done = conn.execute(
                C.update()
                .where(C.c.id == cycle_id, C.c.version == row.version)
                .values(version=row.version + 1, stage=stage, history_count=row.history_count + 1)
            )
            if done.rowcount != 1:
                return Response({"version": row.version}, status_code=412)
            conn.execute(
                H.insert().values(
                    cycle_id=cycle_id,
                    seq=row.history_count + 1,
                    at=now,
                    kind="transition",
                    actor="bare",
                    role="",
                    transition="move",
                    from_stage=row.stage,
                    to_stage=stage,
                    payload_digest="",
                    forced=False,
                    reason="",
                    detail={},
                    prev_hash="",
                    hash="",
                )
            )
        version = row.version + 1
        return Response({"version": version}, headers={"ETag": f'"{version}"'})

    return Litestar([health, show, move], on_shutdown=[engine.dispose], logging_config=None)


if __name__ == "__main__":
    uvicorn.run(
        create(sys.argv[1]),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_config=None,
        access_log=False,
    )

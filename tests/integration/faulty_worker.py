"""``gospulse`` with a broker that refuses state records from the Nth on, as a broker refuses a record
it cannot take (too large, topic gone, not authorised): the fail-closed test runs a worker this way.

Run as ``python -m tests.integration.faulty_worker worker …`` with ``GOSPULSE_TEST_REFUSE_STATE_FROM=N``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from faust.transport.producer import ProducerBuffer
from kafka.errors import KafkaError

from gospulse import main

REFUSE_FROM = int(os.environ["GOSPULSE_TEST_REFUSE_STATE_FROM"])
_send_pending = ProducerBuffer._send_pending
_state_records = 0


async def _refusing(self: ProducerBuffer, fut: Any) -> None:
    global _state_records
    if fut.message.channel.get_topic_name().endswith("-state-changelog"):
        _state_records += 1
        if _state_records >= REFUSE_FROM:
            fut.set_exception(KafkaError(f"injected: the broker refused state record {_state_records}"))
            return
    await _send_pending(self, fut)


ProducerBuffer._send_pending = _refusing  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

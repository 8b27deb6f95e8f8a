"""A stand-in quote workflow that only records `payment_notified` signals."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from marketred.schemas.payments import PaymentNotified


@workflow.defn(name="PaymentSignalRecorder")
class PaymentSignalRecorder:
    def __init__(self) -> None:
        self._notices: list[PaymentNotified] = []
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.signal
    def payment_notified(self, notice: PaymentNotified) -> None:
        self._notices.append(notice)

    @workflow.signal
    def finish(self) -> None:
        self._done = True

    @workflow.query
    def notices(self) -> list[PaymentNotified]:
        return self._notices

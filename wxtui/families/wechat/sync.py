"""Pull an account into its cache: tags, followers (with their tags), blacklist.

    result = await Sync(client, store, on_event=print).run()

Followers come from user/get pages (10,000 openids, one call at a time: each page names the
next) feeding user/info/batchget calls of 100, several in flight; the next page is fetched
while the current one's details arrive, so the calls in flight stay at the client's limit.
Each page is written in one transaction together with the cursor after it, so an interrupted
sync (cancelled, killed, out of quota) resumes from the last written page. The pass goes into
shadow tables and is swapped in at the end (see wxtui.store.passes): followers who have gone
disappear then, and the views show the last complete pass until then.

One process syncs an account at a time (a lock beside the cache, see wxtui.jobs.locks): a
second sync of the same account (the app and `wxtui sync`, or two commands) says which
process holds it and waits for it to end, then brings the cache up to date itself.

A 45009 (daily quota) stops the sync with its state saved: status "paused", and a message
saying when it can go on. Cancelling (Sync.cancel() or cancelling the task) also keeps the
state. The command `wxtui sync` lives in wxtui.cli.sync.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable

from wxtui.families.wechat import limits
from wxtui.families.wechat.errors import BadOpenidError, QuotaExceeded, WxtuiError
from wxtui.core.syncing import CANCELLED, DONE, FAILED, PAUSED, SyncEvent, SyncResult
from wxtui.core.transport import call_observer

log = logging.getLogger(__name__)

CURSOR_KEY = "sync.cursor"
FOLLOWERS_DONE_KEY = "sync.followers_done"
PAGES_AHEAD = 2  # user/get pages fetched ahead of the one being detailed
EVENT_INTERVAL_S = 0.1
# A batchget that has not answered after HEDGE_FACTOR times the usual time (never sooner than
# HEDGE_MIN_S) is asked again beside itself, and the first answer wins: batchget only reads,
# and pages are written in order, so one call stuck until its timeout would hold the sync.
HEDGE_FACTOR = 10
HEDGE_MIN_S = 1.0
_USUAL_OF = 50  # the usual time: the median of this many recent calls

LOCK_POLL_S = 0.25

# Phases, in order (the statuses a run ends in are every family's: wxtui.core.syncing).
WAITING = "waiting"
TAGS, FOLLOWERS, BLACKLIST, FINISHING = "tags", "followers", "blacklist", "finishing"


class Sync:
    """One sync of one account. run() once; cancel() from anywhere to stop it cleanly."""

    def __init__(self, client, store, *, concurrency: int | None = None,
                 on_event: Callable[[SyncEvent], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, hedge_after_s: float | None = None):
        self.client = client
        self.store = store
        self.concurrency = max(1, concurrency or getattr(client, "max_in_flight", 8))
        self.on_event = on_event
        self.clock = clock
        self._cancel = asyncio.Event()
        self._started = 0.0
        self._calls0 = 0
        self._done = 0
        self._done0 = 0
        self._total: int | None = None
        self._last_event = 0.0
        self._write: asyncio.Task | None = None
        self._hedge_after_s = hedge_after_s  # None: from the usual time of a call
        self._durations: deque[float] = deque(maxlen=_USUAL_OF)
        self.hedged = 0  # calls asked again beside themselves

    def cancel(self) -> None:
        self._cancel.set()

    # ---- the run ---------------------------------------------------------------------------

    async def run(self) -> SyncResult:
        from wxtui.jobs.locks import SyncLock

        self._started = self.clock()
        self._calls0 = self.client.stats.calls
        lock = SyncLock(getattr(self.store, "path", None))
        try:
            if not await self._wait_for(lock):
                return self._stopped(CANCELLED, "Sync cancelled while it waited for the other sync.")
            return await self._run()
        finally:
            lock.release()

    async def _wait_for(self, lock) -> bool:
        """Take the account's sync lock, waiting while another process syncs; False if
        cancelled meanwhile."""
        from wxtui.jobs.locks import holders

        told = None
        while not lock.acquire():
            who = [h for h in holders(self.store.path) if "syncs it" in h]
            message = (f"waiting: {who[0]}" if who else "waiting for another sync of this account") + \
                " (this sync starts when it ends)"
            if message != told:
                log.info("sync of %s: %s", self.store.path, message)
                self._emit(WAITING, force=True, message=message)
                told = message
            try:
                await asyncio.wait_for(self._cancel.wait(), LOCK_POLL_S)
                return False
            except asyncio.TimeoutError:
                pass
        return True

    async def _run(self) -> SyncResult:
        store = self.store
        phase = TAGS
        try:
            pass_id = await asyncio.to_thread(store.begin_pass)
            self._done = self._done0 = await asyncio.to_thread(store.pass_size)
            self._emit(TAGS, force=True)
            tags = await self.client.get_tags()
            await asyncio.to_thread(store.replace_tags, tags)
            if store.get_meta(FOLLOWERS_DONE_KEY) != str(pass_id):
                phase = FOLLOWERS
                if await self._followers(pass_id) is None:
                    return self._stopped(CANCELLED, "Sync cancelled; it resumes where it stopped.")
            phase = BLACKLIST
            self._emit(BLACKLIST, force=True)
            blacklist = [o async for page in self.client.iter_blacklist() for o in page.openids]
            phase = FINISHING
            self._emit(FINISHING, force=True, message="swapping in the new cache")
            summary = await asyncio.to_thread(self._finish, pass_id, blacklist)
        except QuotaExceeded as exc:
            return self._stopped(PAUSED, _quota_message(exc, phase, self._done, self._total))
        except asyncio.CancelledError:
            self._emit(CANCELLED, force=True, message="cancelled; the sync resumes where it stopped")
            raise
        except WxtuiError as exc:
            return self._stopped(FAILED, f"Sync failed during {phase}: {exc}")
        result = SyncResult(DONE, summary.followers, summary.added, summary.removed, len(tags),
                            len(blacklist), self._calls(), self.clock() - self._started,
                            f"{summary.followers:,} followers, {len(tags)} tags, {len(blacklist):,} blacklisted")
        self._done, self._total = summary.followers, summary.followers
        self._emit(DONE, force=True, message=result.message)
        return result

    def _finish(self, pass_id: int, blacklist: list[str]):
        store = self.store
        with store.transaction():
            summary = store.finish_pass(pass_id)
            store.replace_blacklist(blacklist)
            store.set_meta(CURSOR_KEY, None)
            store.set_meta(FOLLOWERS_DONE_KEY, None)
        return summary

    def _stopped(self, status: str, message: str) -> SyncResult:
        self._emit(status, force=True, message=message)
        return SyncResult(status, self.store.follower_count(), calls=self._calls(),
                          elapsed_s=self.clock() - self._started, message=message)

    # ---- followers -------------------------------------------------------------------------

    async def _followers(self, pass_id: int) -> bool | None:
        """Every page from the saved cursor on; None if cancelled (state kept)."""
        self._emit(FOLLOWERS, force=True)
        pages: asyncio.Queue = asyncio.Queue(maxsize=PAGES_AHEAD)
        fetcher = asyncio.create_task(self._fetch_pages(pages, self.store.get_meta(CURSOR_KEY) or ""))
        # Detail calls under way at once. The client keeps its own count on the wire
        # (max_in_flight) and frees a call's place as soon as the answer has arrived; letting
        # twice as many be under way here means reading one answer never holds back the next
        # call. Asked for fewer than the client allows, the sync keeps the count of detail
        # calls itself (the next page's user/get goes out beside them).
        wire = getattr(self.client, "max_in_flight", self.concurrency)
        slots = asyncio.Semaphore(self.concurrency if self.concurrency < wire else 2 * self.concurrency)
        # Pages whose details are being fetched: the next page's calls are queued before the
        # current page is complete, so the calls in flight never drain at a page boundary.
        pending: deque[tuple[list[asyncio.Task], str]] = deque()
        self._write: asyncio.Task | None = None
        try:
            while not self._cancel.is_set():
                item = await pages.get()
                if item is None:
                    break
                openids, next_openid = item
                step = limits.USER_INFO_BATCH
                pending.append(([asyncio.create_task(self._details(openids[i : i + step], slots))
                                 for i in range(0, len(openids), step)], next_openid))
                if len(pending) > 1:
                    await self._complete(pass_id, *pending.popleft())
            while pending and not self._cancel.is_set():
                await self._complete(pass_id, *pending.popleft())
            if self._write is not None:
                await self._write
            if self._cancel.is_set():
                return None
            await fetcher  # its error (a quota stop on user/get), if any
            await asyncio.to_thread(self.store.set_meta, FOLLOWERS_DONE_KEY, str(pass_id))
            self._emit(FOLLOWERS, force=True)  # the phase's last count, whatever the throttle let by
            return True
        finally:
            fetcher.cancel()
            for tasks, _ in pending:
                for task in tasks:
                    task.cancel()
            if self._write is not None and not self._write.done():
                await asyncio.shield(self._write)

    async def _complete(self, pass_id: int, tasks: list[asyncio.Task], next_openid: str) -> None:
        """Wait for one page's details, then write it (pages in order, one transaction each)."""
        try:
            infos = [f for part in await asyncio.gather(*tasks) for f in part]
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        if self._write is not None:
            await self._write
        self._write = asyncio.create_task(asyncio.to_thread(self._write_page, pass_id, infos, next_openid))

    async def _fetch_pages(self, pages: asyncio.Queue, cursor: str) -> None:
        try:
            async for page in self.client.iter_followers(cursor):
                if page.total is not None and page.total != self._total:
                    self._total = page.total
                    self._emit(FOLLOWERS, force=True)  # the bar can show its length at once
                await pages.put((page.openids, page.next_openid))
                if self._cancel.is_set():
                    break
        finally:
            await pages.put(None)

    async def _details(self, openids: list[str], slots: asyncio.Semaphore) -> list[dict]:
        async with slots:
            try:
                infos = await self._answers(openids)
            except BadOpenidError:
                # One openid that is no longer valid fails the whole call: halve until it is
                # alone and leave it out (it has gone, so the pass drops it).
                if len(openids) == 1:
                    return []
                infos = None
        if infos is None:
            mid = len(openids) // 2
            return await self._details(openids[:mid], slots) + await self._details(openids[mid:], slots)
        self._done += len(openids)
        self._emit(FOLLOWERS)
        return infos

    async def _answers(self, openids: list[str]) -> list[dict]:
        """One batchget, asked again beside itself if an attempt of it is on the wire much
        longer than usual. Its retries (a busy platform, a 503) restart the clock: they wait
        on purpose, and asking again then would only add to the platform's load."""
        started = time.monotonic()
        attempt = [started]  # when the call's current attempt went out
        outer = call_observer.get()

        def on_retry(event) -> None:
            attempt[0] = time.monotonic() + event.delay_s
            if outer is not None:
                outer(event)

        context = call_observer.set(on_retry)
        try:
            first = asyncio.ensure_future(self.client.user_info_answers(openids))
        finally:
            call_observer.reset(context)
        calls = {first}
        hedge_after = self._hedge_after()
        try:
            while not first.done():
                left = attempt[0] + hedge_after - time.monotonic()
                if left <= 0:
                    break
                await asyncio.wait(calls, timeout=left)
            if first.done():
                infos = first.result()
                if attempt[0] == started:  # answered at the first attempt: the usual time
                    self._durations.append(time.monotonic() - started)
                return infos
            self.hedged += 1
            log.info("user/info/batchget: no answer after %.1f s; asking again beside it",
                     time.monotonic() - attempt[0])
            calls.add(asyncio.ensure_future(self.client.user_info_answers(openids)))
            pending, error = set(calls), None
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for call in done:
                    if call.exception() is None:
                        return call.result()
                    error = error or call.exception()
            raise error
        finally:
            for call in calls:
                call.cancel()

    def _hedge_after(self) -> float:
        if self._hedge_after_s is not None:
            return self._hedge_after_s
        if len(self._durations) < 10:
            return HEDGE_MIN_S * 5  # until the usual time is known
        usual = sorted(self._durations)[len(self._durations) // 2]
        return max(HEDGE_MIN_S, HEDGE_FACTOR * usual)

    def _write_page(self, pass_id: int, infos: list[dict], next_openid: str) -> None:
        store = self.store
        with store.transaction():
            store.write_pass_answers(infos, pass_id)
            store.set_meta(CURSOR_KEY, next_openid)

    # ---- events ----------------------------------------------------------------------------

    def _calls(self) -> int:
        return self.client.stats.calls - self._calls0

    def _emit(self, phase: str, *, force: bool = False, message: str = "") -> None:
        if self.on_event is None:
            return
        now = self.clock()
        if not force and now - self._last_event < EVENT_INTERVAL_S:
            return
        self._last_event = now
        elapsed = max(now - self._started, 1e-9)
        rate = (self._done - self._done0) / elapsed
        eta = None
        if self._total is not None and rate > 0 and phase == FOLLOWERS:
            eta = max(self._total - self._done, 0) / rate
        self.on_event(SyncEvent(phase, self._done, self._total, self._calls(), rate, eta, message))


def _quota_message(exc: QuotaExceeded, phase: str, done: int, total: int | None) -> str:
    where = f"{done:,} of {total:,} followers" if total else f"{done:,} followers"
    return (f"Sync paused during {phase} at {where}: the daily quota of {exc.path or 'an API'} is used up "
            "(errcode 45009). Everything fetched so far is kept; run the sync again after midnight "
            "China time (or after a confirmed quota reset) and it resumes from there.")

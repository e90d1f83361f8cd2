from forge_cli.core.models import Complexity, Item
from forge_cli.engine.batcher import PackLimits, Scheduler


def item(n: int, cls: Complexity = Complexity.SIMPLE, urgency: int = 0, tokens: int = 50) -> Item:
    it = Item(id=str(n), line=n, text=f"ticket {n}", urgency=urgency)
    it.complexity = cls
    it.tokens = tokens
    return it


def drain(sched: Scheduler) -> list[list[Item]]:
    packs = []
    while (pack := sched.take()) is not None:
        packs.append(pack)
    return packs


def test_default_caps_per_class_complex_first():
    sched = Scheduler()
    for n in range(30):
        sched.push(item(n, Complexity.SIMPLE))
    for n in range(30, 42):
        sched.push(item(n, Complexity.COMPLEX))
    for n in range(42, 57):
        sched.push(item(n, Complexity.MEDIUM))
    packs = drain(sched)
    # 12 complex: 5, 5, then 2 complex topped up with medium up to the complex cap of 5;
    # 12 medium left: 10, then 2 medium topped up with simple up to the medium cap of 10; 22 simple
    assert [len(p) for p in packs] == [5, 5, 5, 10, 10, 20, 2]
    assert [it.complexity for it in packs[2]] == [Complexity.COMPLEX] * 2 + [Complexity.MEDIUM] * 3
    seen = [it.id for p in packs for it in p]
    assert sorted(seen, key=int) == [str(n) for n in range(57)]
    assert sched.pending == 0


def test_complex_scheduled_before_simple_and_caps_respected():
    sched = Scheduler()
    for n in range(40):
        sched.push(item(n, Complexity.SIMPLE))
    for n in range(40, 47):
        sched.push(item(n, Complexity.COMPLEX))
    packs = drain(sched)
    assert [len(p) for p in packs] == [5, 5, 20, 17]
    assert all(it.complexity is Complexity.COMPLEX for it in packs[0])
    # the leftover complex items may share a pack with simple ones, never over the complex cap
    for pack in packs:
        if any(it.complexity is Complexity.COMPLEX for it in pack):
            assert len(pack) <= 5
        assert len(pack) <= 20
    assert sum(len(p) for p in packs) == 47


def test_urgent_records_go_first():
    sched = Scheduler()
    for n in range(10):
        sched.push(item(n, Complexity.COMPLEX))
    sched.push(item(99, Complexity.SIMPLE, urgency=4))
    first = sched.take()
    assert first is not None and first[0].id == "99"


def test_forced_pack_size_and_pack_one():
    sched = Scheduler(PackLimits(forced=1))
    for n in range(5):
        sched.push(item(n, Complexity.SIMPLE))
    assert [len(p) for p in drain(sched)] == [1] * 5
    sched = Scheduler(PackLimits(forced=7))
    for n in range(20):
        sched.push(item(n, Complexity.COMPLEX))
    assert [len(p) for p in drain(sched)] == [7, 7, 6]


def test_token_budget_bounds_a_pack():
    sched = Scheduler(PackLimits(token_budget=1000))
    for n in range(10):
        sched.push(item(n, Complexity.SIMPLE, tokens=300))
    packs = drain(sched)
    assert [len(p) for p in packs] == [3, 3, 3, 1]
    # an item over the budget still goes, alone
    sched.push(item(50, Complexity.SIMPLE, tokens=5000))
    sched.push(item(51, Complexity.SIMPLE, tokens=10))
    assert [len(p) for p in drain(sched)] == [1, 1]


def test_requeued_items_go_first_in_smaller_packs():
    sched = Scheduler()
    for n in range(20):
        sched.push(item(n))
    sched.requeue([item(100), item(101), item(102)], max_size=2)
    assert sched.pending == 23
    first, second = sched.take(), sched.take()
    assert [it.id for it in first] == ["100", "101"]
    assert [it.id for it in second] == ["102"]
    assert sched.pending == 20


def test_pack_size_adapts_to_failures_and_recovers():
    sched = Scheduler()
    assert sched.cap_for(Complexity.SIMPLE) == 20
    sched.report(Complexity.SIMPLE, clean=False)
    assert sched.cap_for(Complexity.SIMPLE) == 10
    sched.report(Complexity.SIMPLE, clean=False)
    assert sched.cap_for(Complexity.SIMPLE) == 5
    assert sched.cap_for(Complexity.COMPLEX) == 5  # other classes unaffected
    for _ in range(10):
        sched.report(Complexity.SIMPLE, clean=True)
    assert sched.cap_for(Complexity.SIMPLE) == 20
    for _ in range(20):
        sched.report(Complexity.COMPLEX, clean=False)
    assert sched.cap_for(Complexity.COMPLEX) == 1


def test_pending_by_class_counts():
    sched = Scheduler()
    sched.push(item(1, Complexity.MEDIUM))
    sched.push(item(2, Complexity.SIMPLE))
    assert sched.pending_by_class[Complexity.MEDIUM] == 1
    sched.take()
    assert sched.pending == 0
    assert sched.pending_by_class == dict.fromkeys(Complexity, 0)


def test_item_tokens_leave_out_the_instructions():
    from forge_cli.engine.batcher import item_tokens
    from forge_cli.tasks.classify.task import TicketTask

    task = TicketTask()
    text = "printer on fire " * 20  # 320 characters
    assert (
        item_tokens(task, text)
        == task.estimate_request_tokens((text,))[0] - (task.estimate_request_tokens(())[0])
    )
    assert item_tokens(task, text) < 120  # the ~250-token instructions are not counted per item

r"""The RCA document: the runbook's "Document Format", filled in from an incident's record.

:func:`rca_document` reads an incident and builds an :class:`RcaDocument`: one
:class:`Section` per part of the runbook's format, in its order, each a sequence of blocks
(paragraphs, lists, tables, sub-headings; see :mod:`._blocks`, whose names are re-exported
here).  The same structure renders as Markdown (:meth:`RcaDocument.markdown`, the default) and
as one self-contained HTML file (:meth:`RcaDocument.html`), so the two can never say
different things.

A part with nothing recorded is not dropped: it says "Nothing recorded: …" and the document
lists it in :attr:`RcaDocument.gaps`, the completeness check — what the reviewers still have
to fill in, in document order.

Everything people typed (a title, an update, a why, even an actor's name) is a *typed*
:class:`Span` and is escaped for the format it is written in, with the functions of
:mod:`._markup`: typed text cannot make a heading, a list, a table cell, a mention or an
HTML tag, and the only links it makes are its http and https URLs, shown as they are.  The
library's own words are fixed strings that need no escaping.

>>> from datetime import UTC, datetime
>>> from incidentflow.demo import run_demo
>>> doc = rca_document(run_demo(lambda s: None), now=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
>>> doc.title
'Root Cause Analysis for Database is down'
>>> [gap.section for gap in doc.gaps]
['introduction', 'scope', 'recommendations']
>>> print(doc.markdown().splitlines()[0])
# Root Cause Analysis for Database is down
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from attrs import evolve, field, frozen

from incidentflow import events as ev
from incidentflow.clock import require_not_before
from incidentflow.errors import InvalidInput, MissingExtra
from incidentflow.incident import Incident
from incidentflow.lifecycle import State
from incidentflow.records import (
    ActionItem,
    ActionKind,
    Experiment,
    FishboneCategory,
    LinkKind,
    Verdict,
    WhyChain,
)
from incidentflow.roles import Role

from ._blocks import (
    Block,
    BulletList,
    Figure,
    NestedItem,
    NestedList,
    NothingRecorded,
    NumberedList,
    Paragraph,
    Section,
    Span,
    Subheading,
    Table,
    Text,
    label,
    markdown,
    ours,
    page,
    typed,
)
from ._facts import factors_by_category, role_holders, systems
from ._fishbone import fishbone
from ._impact import impact_blocks, impact_story
from ._narrative import describe, elapsed, moment, window
from ._summary import executive_summary

__all__ = [
    "SECTION_KEYS",
    "Block",
    "BulletList",
    "Figure",
    "Gap",
    "NothingRecorded",
    "NumberedList",
    "Paragraph",
    "RcaDocument",
    "Section",
    "Span",
    "Subheading",
    "Table",
    "Text",
    "corrections_section",
    "data_loss_section",
    "discrepancies_section",
    "five_whys_tree",
    "rca_document",
]

SECTION_KEYS = (
    "title_page",
    "executive_summary",
    "table_of_contents",
    "introduction",
    "scope",
    "problem_description",
    "methodology",
    "analysis",
    "recommendations",
    "conclusion",
    "summary",
    "appendices",
    "acknowledgments",
    "revision_history",
)
"""The sections of an RCA document, in the runbook's order."""

_HEADINGS = {
    "executive_summary": "Executive Summary",
    "table_of_contents": "Table of Contents",
    "introduction": "1. Introduction",
    "scope": "2. Scope",
    "problem_description": "3. Problem Description",
    "methodology": "4. Methodology",
    "analysis": "5. Analysis",
    "recommendations": "6. Recommendations",
    "conclusion": "7. Conclusion",
    "summary": "Summary and Final Thoughts",
    "appendices": "Appendices",
    "acknowledgments": "Acknowledgments",
    "revision_history": "Revision History",
}


@frozen
class Gap:
    """Something the reviewers still have to fill in: the section key and what is missing."""

    section: str
    what: str


@frozen
class RcaDocument:
    """An RCA document built from one incident at one version.

    ``gaps`` is the completeness check: every part the record left empty, in document order.
    """

    incident_id: str
    title: str
    generated_at: datetime
    version: int
    sections: tuple[Section, ...]
    gaps: tuple[Gap, ...]
    # The incident the document was built from, to draw its timeline chart for the HTML page.
    _incident: Incident | None = field(default=None, eq=False, repr=False, alias="incident")

    def section(self, key: str) -> Section:
        """The section called ``key`` (one of :data:`SECTION_KEYS`)."""
        for section in self.sections:
            if section.key == key:
                return section
        raise InvalidInput(f"no section {key!r}; the sections are {', '.join(SECTION_KEYS)}")

    def markdown(self) -> str:
        """The document as CommonMark with GitHub tables (the default rendering)."""
        return markdown(self.sections)

    def html(self, *, chart: bool = True) -> str:
        """The document as one self-contained HTML file.

        Styles and pictures are inline; there are no scripts and no external resources, and a
        content security policy forbids loading any.  The only links are the http and https
        URLs people recorded.  With ``chart`` (the default) and the ``charts`` extra installed,
        the appendices open with the incident's timeline chart as an inline SVG (see
        :func:`incidentflow.charts.timeline_chart`); without either, the page has no chart.
        """
        drawing = self._chart() if chart else None
        if drawing is None:
            return page(self.title, self.sections)
        return page(self.title, tuple(_with_chart(s, drawing) for s in self.sections))

    def _chart(self) -> Figure | None:
        incident = self._incident
        if incident is None:
            return None
        if incident.version != self.version:  # it recorded more since: draw it as it was
            incident = Incident.replay(incident.history[: self.version])
        from incidentflow.charts import timeline_chart

        try:
            drawn = timeline_chart(incident, now=self.generated_at).decode("utf-8")
        except MissingExtra:
            return None
        return Figure(
            "The incident along time: states as bands, updates, experiments and manual changes.",
            svg=drawn[drawn.index("<svg") :].strip(),
        )


def _with_chart(section: Section, chart: Figure) -> Section:
    """``section`` with ``chart`` placed under its "Timeline" sub-heading, if it has one."""
    blocks = list(section.blocks)
    for n, block in enumerate(blocks):
        if block == Subheading("Timeline"):
            blocks.insert(n + 1, chart)
            return evolve(section, blocks=tuple(blocks))
    return section


# -- small helpers ---------------------------------------------------------------------------


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _names(names: Iterable[str]) -> Text:
    """People's names, comma-separated, each escaped on its own."""
    spans: list[Span] = []
    for n, name in enumerate(names):
        if n:
            spans.append(ours(", "))
        spans.append(typed(name))
    return tuple(spans) or (ours("—"),)


def _cell(text: str) -> Text:
    return (typed(text),)


def _plain(text: str) -> Text:
    return (ours(text),)


# -- facts drawn from the record -------------------------------------------------------------


def _root_causes(incident: Incident) -> list[Text]:
    return [
        (typed(chain.answers[-1]), ours(" (chain "), typed(chain.id), ours(")"))
        for chain in incident.why_chains.values()
        if chain.root_cause
    ]


def _root_cause_blocks(incident: Incident, missing: str) -> list[Block]:
    causes = _root_causes(incident)
    if not causes:
        return [NothingRecorded(missing)]
    return [BulletList(tuple(causes))]


def _experiment_table(experiments: Iterable[Experiment]) -> Table:
    return Table(
        ("ID", "Component", "Owner", "Hypothesis", "Action", "Expected", "Observed", "Verdict"),
        tuple(
            (
                _cell(e.id),
                _cell(e.component),
                _cell(e.owner),
                _cell(e.hypothesis),
                _cell(e.action),
                _cell(e.expected),
                _cell(e.observed) if e.observed is not None else _plain("—"),
                _plain(e.verdict.value if e.verdict else "running"),
            )
            for e in experiments
        ),
    )


def _action_status(item: ActionItem, now: datetime) -> str:
    if item.closed_at is not None:
        return f"closed {moment(item.closed_at)}"
    return "open, overdue" if item.due_at is not None and item.due_at < now else "open"


# -- the sections ----------------------------------------------------------------------------


def _title_page(
    incident: Incident, now: datetime, author: tuple[str, ...], note: str | None
) -> list[Block]:
    facts: list[Text] = [
        (label("Incident:"), ours(" "), typed(incident.id)),
        (label("Date:"), ours(f" {now.date().isoformat()}")),
        (label("Author/Team:"), ours(" "), *_names(author)),
    ]
    if note is not None:
        facts.append((label("Confidentiality:"), ours(" "), typed(note)))
    return [BulletList(tuple(facts))]


def _executive_summary(incident: Incident) -> list[Block]:
    blocks: list[Block] = [executive_summary(incident)]
    if not _root_causes(incident):
        blocks.append(NothingRecorded("root causes (no Five Whys chain has reached one)"))
    return blocks


def _table_of_contents() -> list[Block]:
    # The headings are the library's words, but "1. Introduction" at the start of a list item
    # would start a nested list in Markdown: they are escaped like typed text.
    return [BulletList(tuple((typed(_HEADINGS[key]),) for key in SECTION_KEYS[3:]))]


def _introduction(incident: Incident, background: str | None) -> list[Block]:
    return [
        Subheading("Background"),
        Paragraph((typed(background),))
        if background is not None
        else NothingRecorded("the background of the system"),
        Subheading("Objectives"),
        Paragraph(
            (
                ours("This analysis of "),
                typed(incident.id),
                ours(
                    " sets out to find the root causes of the failure, to validate them "
                    "against the evidence recorded during the response, and to recommend "
                    "corrective and preventive actions with owners and due dates."
                ),
            )
        ),
    ]


def _scope(incident: Incident, out_of_scope: str | None) -> list[Block]:
    names = systems(incident)
    examined: list[Block] = (
        [
            Paragraph(
                _plain(
                    "The systems examined: the components experiments were run against "
                    "and the places manual changes were made."
                )
            ),
            BulletList(tuple(_cell(system) for system in names)),
        ]
        if names
        else [NothingRecorded("the systems examined")]
    )
    return [
        Subheading("In scope"),
        *examined,
        Subheading("Out of scope"),
        Paragraph((typed(out_of_scope),))
        if out_of_scope is not None
        else NothingRecorded("what is out of scope"),
    ]


def _problem_description(incident: Incident) -> list[Block]:
    priority = incident.priority
    blocks: list[Block] = [
        Paragraph(
            (
                label("Failure:"),
                ours(" "),
                typed(incident.title),
                ours(f" — a {priority.value} ({priority.title}): {priority.definition}"),
            )
        ),
        *impact_blocks(impact_story(incident)),
        *data_loss_section(incident),
    ]

    blocks.append(Subheading("Evidence"))
    evidence: list[Text] = []
    validation = incident.validation
    if validation is not None:
        evidence.append(_by("Validated", validation, (typed(validation.evidence),)))
    if incident.recovery is not None:
        recovery = incident.recovery
        evidence.append(_by("Recovery verified", recovery, (typed(recovery.evidence),)))
    if incident.customer_verification is not None:
        customer = incident.customer_verification
        evidence.append(
            _by(
                "Customer verification",
                customer,
                (typed(customer.customer), ours(": "), typed(customer.evidence)),
            )
        )
    blocks.append(BulletList(tuple(evidence)) if evidence else NothingRecorded("the evidence"))

    blocks.append(Subheading("Links"))
    links = [
        (label(f"{kind.label}:"), ours(" "), typed(link.url))
        for kind in LinkKind
        if (link := incident.links.get(kind)) is not None
    ]
    blocks.append(
        BulletList(tuple(links))
        if links
        else NothingRecorded("links to the ticket, war room, channel and announcement")
    )
    return blocks


def _by(caption: str, event: ev.Event, what: Text) -> Text:
    return (
        label(caption),
        ours(" ("),
        typed(event.actor),
        ours(f", {moment(event.occurred_at)}): "),
        *what,
    )


def _methodology(incident: Incident, people: dict[Role, list[str]]) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            _plain(
                "The response followed the runbook's experimental method: each experiment "
                "states a hypothesis, an action and the expected result, and records what was "
                "observed. The root causes were sought with the Five Whys and a fishbone "
                "(Ishikawa) diagram of contributing factors."
            )
        ),
        Subheading("Five Whys"),
    ]
    chains = incident.why_chains.values()
    if chains:
        depth = incident.policy.whys_depth_for(incident.priority)
        blocks.append(
            Paragraph(_plain(f"A chain reaches a root cause at a depth of {depth} or more."))
        )
        blocks.append(
            BulletList(
                tuple(
                    (
                        ours("Chain "),
                        typed(chain.id),
                        ours(
                            f": {_count(chain.depth, 'why', 'whys')}, " + _chain_state(chain, depth)
                        ),
                    )
                    for chain in chains
                )
            )
        )
    else:
        blocks.append(NothingRecorded("Five Whys chains"))

    blocks.append(Subheading("Fishbone categories"))
    groups = factors_by_category(incident)
    if groups:
        blocks.append(
            BulletList(
                tuple(
                    _plain(f"{_category_name(category)}: {_count(len(factors), 'factor')}")
                    for category, factors in groups
                )
            )
        )
        blocks.append(
            fishbone(
                incident.title,
                [(category, [f.description for f in factors]) for category, factors in groups],
            )
        )
    else:
        blocks.append(NothingRecorded("fishbone categories (no contributing factor is recorded)"))

    blocks.append(Subheading("Teams and roles involved"))
    if people:
        rows: list[tuple[Text, ...]] = []
        for role, held in people.items():
            now_held = incident.holders(role)
            rows.append(
                (
                    _plain(role.title),
                    _names(now_held),
                    _names(p for p in held if p not in now_held),
                )
            )
        blocks.append(Table(("Role", "Holds it now", "Held it before"), tuple(rows)))
    else:
        blocks.append(NothingRecorded("the teams and roles involved"))
    if incident.post_mortem is not None:
        blocks.append(
            Paragraph(
                (
                    label("Invited to the post-mortem:"),
                    ours(" "),
                    *_names(incident.post_mortem.invitees),
                )
            )
        )
    return blocks


def _category_name(category: FishboneCategory | None) -> str:
    return category.value if category is not None else "uncategorized"


def _analysis(incident: Incident) -> list[Block]:
    blocks: list[Block] = [Subheading("Five Whys")]
    if incident.why_chains:
        blocks.append(five_whys_tree(incident))
    else:
        blocks.append(NothingRecorded("Five Whys answers"))
    blocks.extend(discrepancies_section(incident))

    blocks.append(Subheading("Contributing factors"))
    for category, factors in factors_by_category(incident):
        blocks.append(Paragraph((label(_category_name(category).capitalize()),)))
        blocks.append(BulletList(tuple(_cell(f.description) for f in factors)))
    if not incident.factors:
        blocks.append(NothingRecorded("contributing factors"))

    concluded = [e for e in incident.experiments.values() if e.verdict is not None]
    failed = [e for e in concluded if e.verdict is not Verdict.CONFIRMED]
    confirmed = [e for e in concluded if e.verdict is Verdict.CONFIRMED]
    blocks.append(Subheading("What was tried and did not work"))
    blocks.append(
        _experiment_table(failed) if failed else NothingRecorded("experiments that did not work")
    )
    blocks.append(Subheading("Confirmed experiments"))
    blocks.append(
        _experiment_table(confirmed) if confirmed else NothingRecorded("confirmed experiments")
    )
    blocks.append(Subheading("Experiments still running"))
    running = incident.running_experiments
    blocks.append(
        _experiment_table(running) if running else Paragraph(_plain("No experiment is running."))
    )

    blocks.append(Subheading("Manual changes"))
    changes = incident.manual_changes.values()
    blocks.append(
        Table(
            ("ID", "What", "Where", "By", "At", "Revert", "Outcome"),
            tuple(
                (
                    _cell(c.id),
                    _cell(c.what),
                    _cell(c.where),
                    _cell(c.by),
                    _plain(moment(c.at)),
                    _cell(c.revert),
                    _plain(
                        f"{c.outcome.value} {moment(c.reconciled_at)}"
                        if c.outcome is not None and c.reconciled_at is not None
                        else "not reconciled"
                    ),
                )
                for c in changes
            ),
            nowrap=(4,),
        )
        if changes
        else NothingRecorded("manual changes")
    )
    return blocks


def _recommendations(incident: Incident, now: datetime) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(_plain(f"Each action has an owner and a due date; status as of {moment(now)}."))
    ]
    for kind in ActionKind:
        items = [a for a in incident.action_items.values() if a.kind is kind]
        blocks.append(Subheading(f"{kind.value.capitalize()} actions"))
        blocks.append(
            Table(
                ("ID", "Description", "Owner", "Due", "Status"),
                tuple(
                    (
                        _cell(a.id),
                        _cell(a.description),
                        _cell(a.owner) if a.owner is not None else _plain("not known"),
                        _plain(moment(a.due_at) if a.due_at is not None else "not set"),
                        _plain(_action_status(a, now)),
                    )
                    for a in items
                ),
                nowrap=(3,),
            )
            if items
            else NothingRecorded(f"{kind.value} actions")
        )
    return blocks


def _conclusion(incident: Incident, now: datetime) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            (
                typed(incident.id),
                ours(f" is {incident.state.value}: {incident.state.meaning}"),
            )
        ),
        Paragraph(_plain("The root causes found:")),
        *_root_cause_blocks(incident, "root causes to conclude on"),
    ]
    items = incident.action_items.values()
    still_open = [a for a in items if a.open]
    overdue = [a for a in still_open if a.due_at is not None and a.due_at < now]
    if not items:
        follow_up = "No action item has been added."
    elif not still_open:
        follow_up = "Every action item is closed."
    else:
        verb = "remains" if len(still_open) == 1 else "remain"
        follow_up = f"{len(still_open)} of {_count(len(items), 'action item')} {verb} open" + (
            f", {len(overdue)} overdue." if overdue else "."
        )
    pm = incident.post_mortem
    follow_up += (
        f" The post-mortem is scheduled for {moment(pm.scheduled_for)}."
        if pm is not None
        else " No post-mortem is scheduled yet."
    )
    blocks.append(Paragraph(_plain(follow_up)))
    return blocks


def _summary(incident: Incident) -> list[Block]:
    history = incident.history
    times = [e.occurred_at for e in history]
    people = {e.actor for e in history}
    experiments = list(incident.experiments.values())
    verdicts = [e.verdict for e in experiments]
    changes = incident.manual_changes.values()
    chains = incident.why_chains.values()
    updates = incident.updates
    debt = incident.tech_debt.values()
    actions = incident.action_items.values()
    lines = [
        f"{_count(len(history), 'event')} recorded by {_count(len(people), 'person', 'people')}"
        f", from {moment(min(times))} to {moment(max(times))}",
        f"{_count(len(experiments), 'experiment')}: "
        + ", ".join(f"{verdicts.count(v)} {v.value}" for v in Verdict)
        + f", {verdicts.count(None)} running",
        f"{_count(len(changes), 'manual change')}, {sum(c.reconciled for c in changes)} reconciled",
        f"{_count(len(chains), 'Five Whys chain')}, "
        f"{sum(c.root_cause for c in chains)} with a root cause",
        _count(len(incident.factors), "contributing factor"),
        f"{_count(len(updates), 'stakeholder update')}, "
        f"{sum(u.no_progress for u in updates)} reporting no progress",
        f"{_count(len(debt), 'tech-debt item')}, {sum(d.open for d in debt)} open",
        f"{_count(len(actions), 'action item')} "
        f"({sum(a.kind is ActionKind.CORRECTIVE for a in actions)} corrective, "
        f"{sum(a.kind is ActionKind.PREVENTIVE for a in actions)} preventive), "
        f"{sum(a.open for a in actions)} open",
    ]
    return [BulletList(tuple(_plain(line) for line in lines))]


# What the timeline folds into its "Who and what" block: who held which role, and where the
# incident's places are.  Every other kind of event, including any added later, is a row.
_BOOKKEEPING = (ev.RoleAssigned, ev.RoleHandedOff, ev.RoleReleased, ev.Linked, ev.PolicyAdopted)


def _clock(value: datetime, day: date) -> str:
    """A time of day in UTC, ``14:05``; ``09:10+1`` on the day after ``day``, and so on.

    Neither has a place a browser would break the line at (a space, a hyphen or a dash).
    """
    moment_ = value.astimezone(UTC)
    later = (moment_.date() - day).days
    return f"{moment_:%H:%M}" + (f"+{later}" if later else "")


def _first_day(times: Iterable[datetime]) -> date:
    return min(t.astimezone(UTC).date() for t in times)


def _when(event: ev.Event, day: date) -> str:
    """When ``event`` happened, as :func:`_clock` shows it; ``≈`` before it when approximate.

    A declaration whose time is not known shows the latest it can have been: ``by 13:45``.
    """
    unknown = isinstance(event, ev.Declared) and event.is_unknown()
    return (
        ("by " if unknown else "")
        + ("≈" if event.is_approximate() else "")
        + _clock(event.occurred_at, day)
    )


def _what(event: ev.Event, began: datetime) -> Text:
    """The timeline's account of ``event``, saying so when it came before the impact began."""
    before = (ours("Before impact: "),) if event.occurred_at < began else ()
    return (*before, typed(describe(event)))


def _appendices(incident: Incident) -> list[Block]:
    history = sorted(incident.corrected_history, key=lambda e: e.occurred_at)
    day = _first_day(e.occurred_at for e in history)
    timeline = [e for e in history if not isinstance(e, _BOOKKEEPING)]
    blocks: list[Block] = [
        Subheading("Timeline"),
        Paragraph(
            _plain(
                "What happened, in order: decisions, experiments, impact, stakeholder updates "
                f"and state changes. Times are UTC, on {day.isoformat()}; +1 marks the next "
                "day. Who held which role, and the links, are under Who and what."
            )
        ),
        Table(
            ("Time", "Event"),
            tuple((_plain(_when(e, day)), _what(e, incident.began_at)) for e in timeline),
            nowrap=(0,),
        ),
        Subheading("Who and what"),
        *_who_and_what(history, day),
        Subheading("Stakeholder updates"),
    ]
    updates = incident.updates
    blocks.append(
        Table(
            ("Time", "Author", "No progress", "Message"),
            tuple(
                (
                    _plain(_clock(u.occurred_at, day)),
                    _cell(u.actor),
                    _plain("yes" if u.no_progress else "no"),
                    _cell(u.message),
                )
                for u in updates
            ),
            nowrap=(0,),
        )
        if updates
        else NothingRecorded("stakeholder updates")
    )
    return blocks


def _who_and_what(history: list[ev.Event], day: date) -> list[Block]:
    """The role assignments, hand-offs and releases, and the links, one line per role or link."""
    held: dict[Role, list[list[Span]]] = {}
    holding: dict[tuple[Role, str], list[Span]] = {}  # the stints still open
    lines: list[Text] = []

    def took(role: Role, holder: str, at: datetime) -> None:
        stint = [typed(holder), ours(f" from {_clock(at, day)}")]
        held.setdefault(role, []).append(stint)
        holding[(role, holder)] = stint

    def left(role: Role, holder: str, at: datetime) -> None:
        # The incident's rules let only a holder hand a role off or be released from it.
        stint = holding.pop((role, holder))
        stint[-1] = ours(f" {stint[-1].text.removeprefix(' from ')}–{_clock(at, day)}")

    for event in history:
        if isinstance(event, ev.RoleAssigned):
            took(event.role, event.holder, event.occurred_at)
        elif isinstance(event, ev.RoleHandedOff):
            left(event.role, event.from_holder, event.occurred_at)
            took(event.role, event.to_holder, event.occurred_at)
        elif isinstance(event, ev.RoleReleased):
            left(event.role, event.holder, event.occurred_at)
        elif isinstance(event, ev.Linked):
            lines.append(
                (
                    label(f"{event.kind.label}:"),
                    ours(" "),
                    typed(event.url),
                    ours(" (linked by "),
                    typed(event.actor),
                    ours(f", {_clock(event.occurred_at, day)})"),
                )
            )
        elif isinstance(event, ev.PolicyAdopted):
            lines.append(
                (
                    label("Policy:"),
                    ours(" "),
                    typed(event.policy.name),
                    ours(" (adopted by "),
                    typed(event.actor),
                    ours(f", {_clock(event.occurred_at, day)})"),
                )
            )
    roles: list[Text] = []
    for role in Role:
        if role in held:
            spans: list[Span] = [label(f"{role.title}:"), ours(" ")]
            for n, stint in enumerate(held[role]):
                spans.extend([ours(", ")] if n else [])
                spans.extend(stint)
            roles.append(tuple(spans))
    if not roles and not lines:
        return [Paragraph(_plain("No role was assigned and no link was recorded."))]
    return [BulletList((*roles, *lines))]


def _acknowledgments(incident: Incident, people: dict[Role, list[str]]) -> list[Block]:
    if not people:
        return [NothingRecorded("the people who took part")]
    holders = {p for held in people.values() for p in held}
    others = list(dict.fromkeys(e.actor for e in incident.history if e.actor not in holders))
    lines: list[Text] = [
        (label(f"{role.title}:"), ours(" "), *_names(held)) for role, held in people.items()
    ]
    if others:
        lines.append((label("Also took part:"), ours(" "), *_names(others)))
    return [
        Paragraph(_plain("Thanks to everyone who took part in the response, by role:")),
        BulletList(tuple(lines)),
    ]


_REVISIONS = (
    ev.WhyAnswered,
    ev.FactorAdded,
    ev.ExperimentConcluded,
    ev.ActionAdded,
    ev.ActionClosed,
    ev.ReportStarted,
    ev.PostMortemScheduled,
)

# How each kind of change to the analysis is counted in the revision history.
_CHANGES: dict[type[ev.Event], tuple[str, str]] = {
    ev.ExperimentConcluded: ("1 experiment concluded", "{n} experiments concluded"),
    ev.WhyAnswered: ("1 why answered", "{n} whys answered"),
    ev.FactorAdded: ("1 contributing factor added", "{n} contributing factors added"),
    ev.ActionAdded: ("1 action added", "{n} actions added"),
    ev.ActionClosed: ("1 action closed", "{n} actions closed"),
    ev.ReportStarted: ("the report started", "the report started {n} times"),
    ev.PostMortemScheduled: ("the post-mortem scheduled", "the post-mortem scheduled {n} times"),
}


def _revision_history(incident: Incident, now: datetime) -> list[Block]:
    # Consecutive changes to the analysis made while the incident was in one state, together.
    runs: list[tuple[State, list[tuple[int, ev.Event]]]] = []
    state = State.DECLARED
    for version, event in enumerate(incident.history, start=1):
        if isinstance(event, _REVISIONS):
            if runs and runs[-1][0] is state:
                runs[-1][1].append((version, event))
            else:
                runs.append((state, [(version, event)]))
        if isinstance(event, ev.StateChanged):
            state = event.target
    day = _first_day(e.recorded_at for e in incident.history)
    rows = []
    for state, changes in runs:
        first, last = changes[0], changes[-1]
        versions = f"{first[0]}–{last[0]}" if len(changes) > 1 else str(first[0])
        start, end = (_clock(c[1].recorded_at, day) for c in (first, last))
        counts: dict[type[ev.Event], int] = {}
        for _, event in changes:
            counts[type(event)] = counts.get(type(event), 0) + 1
        what = ", ".join(
            _CHANGES[kind][n > 1].format(n=n) if kind in _CHANGES else _count(n, "other change")
            for kind, n in counts.items()
        )
        rows.append(
            (
                _plain(versions),
                _plain(start if start == end else f"{start}–{end}"),
                _plain(state.value),
                _plain(what),
            )
        )
    return [
        Paragraph(
            _plain(
                "A version counts the events an incident has recorded: each event adds one, "
                f"so version {incident.version} is the record after its "
                f"{_ordinal(incident.version)} event. This document was generated from version "
                f"{incident.version} at {moment(now)}; generate it again to take in what was "
                "recorded since. The analysis and the recommendations changed in these "
                f"versions (times UTC, on {day.isoformat()}; +1 marks the next day):"
            )
        ),
        Table(("Versions", "Recorded", "While", "What changed"), tuple(rows), nowrap=(0, 1))
        if rows
        else NothingRecorded("changes to the analysis or the recommendations"),
        *corrections_section(incident),
    ]


# -- corrections, discrepancies, data loss, the Five Whys tree --------------------------------


def _chain_state(chain: WhyChain, depth: int) -> str:
    """Whether ``chain`` found a root cause at ``depth``, marked one too shallow, or is open."""
    if not chain.root_cause:
        return "still open"
    if chain.depth >= depth:
        return "root cause found"
    return f"root cause marked at why {chain.depth}, short of the {depth} required"


def five_whys_tree(incident: Incident) -> NestedList:
    """The Five Whys as a nested list: each answer holds the why it raises next.

    A branch (one of several jointly sufficient causes) hangs under the answer it explains,
    next to the chain's own next answer; each line names the why's depth, and a chain's first
    line names the chain.
    """
    chains = incident.why_chains
    required = incident.policy.whys_depth_for(incident.priority)

    def node(chain: WhyChain, index: int) -> NestedItem:
        depth = chain.start + index
        line: list[Span] = (
            [ours(f"Why {depth} (chain "), typed(chain.id), ours("): ")]
            if index == 0
            else [ours(f"Why {depth}: ")]
        )
        line.append(typed(chain.answers[index]))
        if index == len(chain.answers) - 1 and chain.root_cause:
            line.extend((ours(" "), label(f"({_chain_state(chain, required)})")))
        children = [node(chain, index + 1)] if index + 1 < len(chain.answers) else []
        children.extend(
            node(branch, 0)
            for branch in chains.values()
            if branch.parent == chain.id and branch.start == depth + 1
        )
        return NestedItem(tuple(line), tuple(children))

    roots = [c for c in chains.values() if c.parent is None]
    return NestedList(tuple(node(chain, 0) for chain in roots))


def discrepancies_section(incident: Incident) -> list[Block]:
    """Where sources disagree (notes of kind discrepancy); nothing when none is recorded."""
    found = incident.discrepancies
    if not found:
        return []
    return [
        Subheading("Discrepancies between sources"),
        BulletList(tuple(_by("Noted", note, (typed(note.text),)) for note in found)),
    ]


def data_loss_section(incident: Incident) -> list[Block]:
    """The data lost for good, one row per loss, under the impact; says so when none is recorded.

    Self-contained, for the impact part of a document: a sub-heading and a table of what was
    lost, the window of lost writes, its length and how much.
    """
    losses = incident.data_losses.values()
    if not losses:
        return [
            Subheading("Data loss"),
            Paragraph(_plain("No data-loss record is kept for this incident.")),
        ]
    return [
        Subheading("Data loss"),
        Table(
            ("ID", "What", "Window", "Length", "How much"),
            tuple(
                (
                    _cell(loss.id),
                    _cell(loss.what),
                    _plain(
                        "not known"
                        if loss.window_start is None and loss.window_end is None
                        else window(loss.window_start, loss.window_end)
                    ),
                    _plain(_length(loss.window)),
                    _cell(loss.amount) if loss.amount else _plain("not known"),
                )
                for loss in losses
            ),
        ),
    ]


def _length(seconds: float | None) -> str:
    """A data-loss window's length, ``not known`` when either end is not known."""
    return "not known" if seconds is None else elapsed(timedelta(seconds=seconds))


def corrections_section(incident: Incident) -> list[Block]:
    """Every correction of the record, with who made it and why; nothing when none was made.

    The document reads the corrected record; this table says what was corrected, so the
    original stays visible (it is also in the incident's history).
    """
    corrections = incident.corrections
    if not corrections:
        return []
    rows = []
    for c in corrections:
        what = (
            f"retracted entry {c.entry}"
            if c.field == "retracted"
            else f"{c.field}" + (f" of entry {c.entry}" if c.entry is not None else "")
        )
        change: Text = (
            (ours(what),)
            if c.field == "retracted"
            else (ours(f"{what}: "), typed(c.before), ours(" → "), typed(c.value))
        )
        rows.append(
            (_plain(str(c.number)), _plain(moment(c.at)), _cell(c.by), change, _cell(c.reason))
        )
    return [
        Subheading("Corrections"),
        Table(("Version", "Corrected", "By", "Correction", "Reason"), tuple(rows)),
    ]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# -- the document ----------------------------------------------------------------------------


def _optional_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-blank string or None, not {value!r}")
    return value


def rca_document(
    incident: Incident,
    *,
    now: datetime,
    author: str | None = None,
    confidentiality: str | None = None,
    background: str | None = None,
    out_of_scope: str | None = None,
) -> RcaDocument:
    """The RCA document for ``incident`` as recorded at ``now``.

    ``author`` defaults to the Recorder (or, with none, whoever declared the incident); the
    date on the title page is ``now``'s date.  ``confidentiality`` is the title page's note,
    left out when ``None``.  The record cannot say what the system is or what the analysis
    leaves out: reviewers write ``background`` and ``out_of_scope``, and until they do, both
    are gaps.  A naive ``now``, one before the incident's last record, or anything but an
    :class:`~incidentflow.Incident` raises :class:`~incidentflow.errors.InvalidInput`.
    """
    if not isinstance(incident, Incident):
        raise InvalidInput(f"incident must be an Incident, not {incident!r}")
    now = require_not_before(
        now, incident.last_recorded_at, "now", f"{incident.id}'s last recorded event"
    )
    named = _optional_text(author, "author")
    note = _optional_text(confidentiality, "confidentiality")
    background = _optional_text(background, "background")
    out_of_scope = _optional_text(out_of_scope, "out_of_scope")
    authors = (
        (named,)
        if named is not None
        else incident.holders(Role.RECORDER) or (incident.declared_by,)
    )
    title = f"Root Cause Analysis for {incident.title}"
    people = role_holders(incident)
    bodies: dict[str, list[Block]] = {
        "title_page": _title_page(incident, now, authors, note),
        "executive_summary": _executive_summary(incident),
        "table_of_contents": _table_of_contents(),
        "introduction": _introduction(incident, background),
        "scope": _scope(incident, out_of_scope),
        "problem_description": _problem_description(incident),
        "methodology": _methodology(incident, people),
        "analysis": _analysis(incident),
        "recommendations": _recommendations(incident, now),
        "conclusion": _conclusion(incident, now),
        "summary": _summary(incident),
        "appendices": _appendices(incident),
        "acknowledgments": _acknowledgments(incident, people),
        "revision_history": _revision_history(incident, now),
    }
    sections = tuple(
        Section(
            key,
            (ours("Root Cause Analysis for "), typed(incident.title))
            if key == "title_page"
            else (ours(_HEADINGS[key]),),
            tuple(bodies[key]),
            level=1 if key == "title_page" else 2,
        )
        for key in SECTION_KEYS
    )
    return RcaDocument(
        incident_id=incident.id,
        title=title,
        generated_at=now,
        version=incident.version,
        sections=sections,
        gaps=tuple(_gaps(sections)),
        incident=incident,
    )


def _gaps(sections: Iterable[Section]) -> Iterator[Gap]:
    for section in sections:
        for block in section.blocks:
            if isinstance(block, NothingRecorded):
                yield Gap(section.key, block.what)

"""What several files of one import define: each object is taken from one file, or refused.

Files imported together are checked together and written in one transaction, so without this
the last file to define a stage, a policy or an application would silently replace what an
earlier one said. A stage, policy or scope mapping that several flows share may come in each
of their files when it is the same there (the shipped flows share their login stage); a
flow, which an import replaces whole with its bindings, comes from one file only. The
documents one blueprint becomes are one file: what they repeat is one entry (or entries that
update each other, as in authentik), so it is not compared.
"""

from collections.abc import Iterator

from idp.core.i18n import N_, Sentence, placed
from idp.transfer.document import FlowDocument, claimed_address, in_source

FLOW_REPEATED = N_(
    "the flow %(name)s is also defined in %(other)s at %(place)s; one import takes each flow "
    "from one file"
)
CLIENT_ID_REPEATED = N_(
    "%(name)s is also the client_id of application %(holder)s in %(other)s at %(place)s"
)
ADDRESS_REPEATED = N_(
    "%(name)s is also the address of application %(holder)s in %(other)s at %(place)s"
)
# Each kind's own sentence, so that a translation can agree with it.
DEFINED_DIFFERENTLY = {
    "stage": N_(
        "the stage %(name)s is defined differently in %(other)s at %(place)s; files imported "
        "together may repeat a stage only unchanged"
    ),
    "policy": N_(
        "the policy %(name)s is defined differently in %(other)s at %(place)s; files imported "
        "together may repeat a policy only unchanged"
    ),
    "scope_mapping": N_(
        "the scope mapping %(name)s is defined differently in %(other)s at %(place)s; files "
        "imported together may repeat a scope mapping only unchanged"
    ),
    "application": N_(
        "the application %(name)s is defined differently in %(other)s at %(place)s; files "
        "imported together may repeat an application only unchanged"
    ),
}


# What one application holds: the same in two files is two applications wanting it.
HELD_BY_ONE = {"client_id": CLIENT_ID_REPEATED, "address": ADDRESS_REPEATED}


def check_duplicates(
    documents: list[tuple[FlowDocument, str]],
    earlier: list[tuple[FlowDocument, str]] = (),
    applied_by=None,
) -> list[str]:
    """One problem for each object a file defines that another file of the same import
    defines otherwise (or at all, for a flow), named in both files.

    `earlier`: the documents an earlier step of the import wrote (blueprints applied first).
    `applied_by(source)`: the sources that file applies (metaapplyblueprint), directly or
    not; it may update what they define, as in authentik, and nothing else may."""
    seen: dict[tuple[str, str], list[tuple[str, str, object]]] = {}
    for document, source in earlier:
        _remember(seen, document, source)
    problems = []
    for document, source in documents:
        allowed = applied_by(source) if applied_by is not None else frozenset()
        for kind, key, place, value in _definitions(document):
            for defined in seen.get((kind, key), ()):
                if defined[0] == source or defined[0] in allowed:
                    continue
                problem = _conflict(kind, key, value, defined)
                if problem is not None:
                    problems.append(in_source(source, placed(place, problem)))
                    break
        _remember(seen, document, source)
    return problems


def _remember(seen: dict, document: FlowDocument, source: str) -> None:
    for kind, key, place, value in _definitions(document):
        seen.setdefault((kind, key), []).append((source, place, value))


def _conflict(kind: str, key: str, value, earlier: tuple) -> str | None:
    other, other_place, defined = earlier
    where = {"name": repr(key), "other": other, "place": other_place}
    if kind == "flow":
        return Sentence(FLOW_REPEATED, **where)
    if value == defined:
        return None
    if kind in HELD_BY_ONE:
        return Sentence(HELD_BY_ONE[kind], holder=repr(defined), **where)
    return Sentence(DEFINED_DIFFERENTLY[kind], **where)


def _definitions(document: FlowDocument) -> Iterator[tuple[str, str, str, object]]:
    """(kind, name, place in its file, what it is) for each object the document defines. The
    place is the one its version-1 form gives, unless the document knows better (a
    blueprint's entry and line)."""
    found = []
    if document.flow is not None:
        found.append(("flow", document.flow.slug, "flow.slug", document.flow))
    for kind, items, list_name in (
        ("stage", document.stages, "stages"),
        ("policy", document.policies, "policies"),
        ("scope_mapping", document.scope_mappings, "scope_mappings"),
    ):
        found += [
            (kind, item.name, f"{list_name}[{index}].name", item)
            for index, item in enumerate(items)
        ]
    for index, application in enumerate(document.applications):
        place = f"applications[{index}]"
        found.append(("application", application.slug, f"{place}.slug", application))
        client_id = application.provider.client_id
        if client_id:
            found.append(("client_id", client_id, f"{place}.provider.client_id", application.slug))
        address = claimed_address(application.provider)
        if address:
            found.append(("address", address, f"{place}.provider.options", application.slug))
    for kind, key, place, value in found:
        yield kind, key, document.places.get((kind, key), place), value

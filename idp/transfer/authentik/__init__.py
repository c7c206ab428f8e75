"""Reading authentik blueprints: the entries Gatehouse has an equivalent for become flow documents.

A blueprint is `version: 1` with `entries:`, each a `model` with `identifiers` and `attrs`, tied
together by YAML tags (`!KeyOf`, `!Find`, ...). What maps becomes one FlowDocument per flow, checked
by `read_document` and written by `import_documents` like our own files. What does not map is
named in `Translation.skipped`, never dropped silently.

Unlike authentik's importer (a partial update by identifiers), an entry with `state: present`
is the whole object, so re-importing a changed file converges on the file: a stage or policy
takes the defaults a new one gets for what the entry leaves out, and a flow the blueprint
declares has exactly the bindings the file gives it (those it no longer gives are named in
`Translation.replaced`). Bindings a blueprint adds to a flow it only finds (`!Find`) are merged
as in authentik, and `state: created` leaves an existing object as it is. `state: absent`
removes a stage or policy binding from its flow; flows, stages and policies are never deleted
by an import, so `absent` on one of those is reported as skipped.

Entries of one blueprint with the same identifiers update each other, as in authentik. Blueprints
read together are not merged: each document keeps its entries' places (FlowDocument.places),
and `idp.transfer.duplicates` refuses two files that give one flow (declared, or found and bound
to) or one stage or policy defined differently, naming each entry and its line. authentik
would let the later one update the earlier; here that takes importing them one after the other.

Failing closed: a flow is imported whole or not at all where its gates are concerned. When the
reader cannot map something that can stop a flow (a stage, a policy binding on a stage binding
or on the flow itself, a binding it cannot read), the flow is not imported and is named with the
reason, whatever the flags: without that gate it would let through whoever authentik stops, or
stop everyone a left-out condition lets pass. Only attributes without a gate's role (a layout,
a friendly name) are left out with a note.

The package, by job: `tags` reads the YAML and its tags, `entries` maps entries to Gatehouse's
objects (through `source.EntrySource`, the interface stage and policy packages read their
attributes with), with `flows`, `components` and `applications` mapping each kind of entry and
`model` holding authentik's models and the plans they become; `documents` assembles the flow
documents, `lookup` asks the database.
"""

from idp.transfer.authentik.applied import ImportPlan, plan_imports
from idp.transfer.authentik.entries import Translation, read_blueprint
from idp.transfer.authentik.lookup import DatabaseLookup
from idp.transfer.authentik.source import EntrySource
from idp.transfer.authentik.tags import (
    CONDITION_MODES,
    AtIndex,
    Condition,
    Context,
    Enumerate,
    Env,
    Find,
    Format,
    If,
    Index,
    KeyOf,
    ParseJSON,
    Unsupported,
    Value,
    is_blueprint,
    load_blueprint,
    looks_like_blueprint,
)
from idp.transfer.authentik_models import format_duration, parse_authentik_duration

__all__ = [
    "CONDITION_MODES",
    "AtIndex",
    "Condition",
    "Context",
    "DatabaseLookup",
    "EntrySource",
    "Enumerate",
    "Env",
    "Find",
    "Format",
    "If",
    "ImportPlan",
    "Index",
    "KeyOf",
    "ParseJSON",
    "Translation",
    "Unsupported",
    "Value",
    "format_duration",
    "is_blueprint",
    "load_blueprint",
    "looks_like_blueprint",
    "parse_authentik_duration",
    "plan_imports",
    "read_blueprint",
]

"""citrix_policy_get, citrix_policy_set, citrix_policy_restore: the Citrix Group Policy provider."""

from __future__ import annotations

import json
from typing import Any

from vipctl.sim.model.citrix import CitrixPolicy, CitrixPolicyStore
from vipctl.sim.model.errors import BadArgument, DelegationRequired, Failed, NotAvailable, NotFound
from vipctl.sim.twin import backup_store
from vipctl.sim.twin.args import require_str
from vipctl.sim.twin.context import OpContext, Outcome
from vipctl.sim.twin.fields import canonical, folded
from vipctl.sim.twin.provider_paths import check_filters, check_segment

SNAPIN = "Citrix.Common.GroupPolicy"
SETTING_FIELDS = ("State", "Values", "Value")
PROVIDER = "CitrixGroupPolicy"  # the API name a fault is injected under (SimHost.fail_api)
# What the executor says when the domain cannot be reached from a WinRM session
# (docs/windows-facts.md#a-domain-gpo-from-a-winrm-session-is-a-second-hop).
SECOND_HOP_MESSAGE = (
    "AD GPO '{gpo}' cannot be reached from this WinRM session: writing a domain GPO is a second hop "
    "and the connection carries no delegated credentials. Connect with CredSSP, or use Kerberos "
    "delegation (a forwardable ticket to a host trusted for delegation)"
)


def _store(ctx: OpContext, args: dict[str, Any]) -> CitrixPolicyStore | None:
    """The policy store the New-PSDrive -Controller would reach; None when the snap-in is absent here."""
    controller = args.get("controller", "localhost")
    if not isinstance(controller, str) or not controller:
        raise BadArgument("'controller' must be a non-empty string")
    if ctx.host.citrix_store is None:
        return None  # Add-PSSnapin fails before the controller is even contacted
    local = {"localhost", ".", ctx.host.name.lower(), ctx.host.computer_name.lower()}
    if controller.lower() not in local:
        raise Failed(f"Cannot contact the Delivery Controller '{controller}' from {ctx.host.computer_name}")
    ctx.host.check_api(PROVIDER)
    return ctx.host.citrix_store


def _reach_gpo(ctx: OpContext, store: CitrixPolicyStore, scope: str, gpo: str | None) -> None:
    """An AD GPO is opened across the domain: a second hop first, then the GPO must exist."""
    if scope != "ad_gpo":
        return
    if ctx.host.spec.gpo_needs_delegation and not ctx.delegated:
        raise DelegationRequired(SECOND_HOP_MESSAGE.format(gpo=gpo))
    store.bucket(scope, gpo)  # NotFound: nothing is created


def _addressing(args: dict[str, Any]) -> tuple[str, str | None, str]:
    name = check_segment(args.get("name"), "name")
    scope = args.get("scope")
    gpo = args.get("gpo")
    if scope not in ("site", "ad_gpo"):
        raise BadArgument(f"'scope' must be 'site' or 'ad_gpo', got {scope!r}")
    if scope == "ad_gpo" and (not isinstance(gpo, str) or not gpo):
        raise BadArgument("'gpo' is required when scope is 'ad_gpo'")
    return name, gpo if scope == "ad_gpo" else None, scope


def op_citrix_policy_get(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    name, gpo, scope = _addressing(args)
    store = _store(ctx, args)
    if store is None:
        return False, {"available": False, "exists": False, "policy": None}
    _reach_gpo(ctx, store, scope, gpo)
    policy = store.get(scope, gpo, name)
    return False, {
        "available": True,
        "exists": policy is not None,
        "policy": None if policy is None else policy.to_json(),
    }


def _policy_spec(raw: object) -> object:
    """The request's `policy` with its field names as the executor reads them (any case)."""
    if not isinstance(raw, dict):
        return raw
    spec = folded(raw)
    if isinstance(spec.get("filters"), list):
        spec["filters"] = [folded(f) if isinstance(f, dict) else f for f in spec["filters"]]
    if isinstance(spec.get("settings"), dict):
        spec["settings"] = {
            name: {canonical(k, SETTING_FIELDS): v for k, v in value.items()}
            if isinstance(value, dict)
            else value
            for name, value in spec["settings"].items()
        }
    return spec


def op_citrix_policy_set(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    name, gpo, scope = _addressing(args)
    # The arguments are checked before the provider is loaded or the domain reached, as the
    # executor does.
    state = args.get("state", "present")
    if state not in ("present", "absent"):
        raise BadArgument(f"argument 'state' must be present or absent, got {state!r}")
    spec = _policy_spec(args.get("policy"))
    if state == "present" and not isinstance(spec, dict):
        raise BadArgument("argument 'policy' must be an object")
    if state == "present":
        check_filters(spec)
    store = _store(ctx, args)
    if store is None:
        raise NotAvailable(f"The Windows PowerShell snap-in '{SNAPIN}' is not installed on this computer.")
    _reach_gpo(ctx, store, scope, gpo)
    changes = store.plan_set(scope, gpo, name, state, spec)
    backup = None
    if changes and ctx.writing:
        before = store.get(scope, gpo, name)
        saved = {
            "exists": before is not None,
            "name": name,
            "scope": scope,
            "gpo": gpo,
            "controller": args.get("controller", "localhost"),
            "policy": None if before is None else before.to_json(),
        }
        backup = ctx.backup_json(f"citrix_policy_{name}", saved)
        store.apply_set(scope, gpo, name, str(state), spec)  # type: ignore[arg-type]
    return bool(changes), {"changes": changes, "backup": backup}


def op_citrix_policy_restore(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    file = require_str(args, "file")
    content = ctx.host.files.read(file)
    if content is None:
        raise NotFound(f"Cannot find path '{file}' because it does not exist.")
    backup_store.verify_backup_file(ctx.host.files, file)
    try:
        saved = json.loads(content.decode("utf-8-sig"))
        name, scope, gpo = saved["name"], saved.get("scope", "site"), saved.get("gpo")
        policy = None
        if saved["exists"]:
            if "halves" not in saved["policy"]:
                # The executor rebuilds a policy half by half, so it needs them in the backup.
                raise KeyError("no 'halves' object")
            policy = CitrixPolicy.from_json(name, {k: v for k, v in saved["policy"].items() if k != "name"})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadArgument(f"{file} is not a vipctl Citrix policy backup: {exc}") from exc
    store = _store(ctx, saved)
    if store is None:
        raise NotAvailable(f"The Windows PowerShell snap-in '{SNAPIN}' is not installed on this computer.")
    _reach_gpo(ctx, store, scope, gpo)
    if ctx.writing:
        store.put(scope, gpo, name, policy)
    # Always reported as a change: the executor rebuilds the policy without comparing first.
    return True, {"file": file, "name": name}

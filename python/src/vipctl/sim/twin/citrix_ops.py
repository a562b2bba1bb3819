"""citrix_policy_get, citrix_policy_set, citrix_policy_restore: the Citrix Group Policy provider."""

from __future__ import annotations

import json
from typing import Any

from vipctl.sim.model.citrix import CitrixPolicy, CitrixPolicyStore
from vipctl.sim.model.errors import BadArgument, DelegationRequired, Failed, NotAvailable, NotFound
from vipctl.sim.twin.args import require_str
from vipctl.sim.twin.context import OpContext, Outcome

SNAPIN = "Citrix.Common.GroupPolicy"


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
    return ctx.host.citrix_store


def _addressing(args: dict[str, Any]) -> tuple[str, str | None, str]:
    name = require_str(args, "name")
    scope = args.get("scope")
    gpo = args.get("gpo")
    if scope not in ("site", "ad_gpo"):
        raise BadArgument(f"'scope' must be 'site' or 'ad_gpo', got {scope!r}")
    if scope == "ad_gpo" and (not isinstance(gpo, str) or not gpo):
        raise BadArgument("'gpo' is required when scope is 'ad_gpo'")
    return name, gpo if scope == "ad_gpo" else None, scope


def _require_delegation(ctx: OpContext, scope: str, gpo: str | None) -> None:
    """Writing an AD GPO from a WinRM session is a second hop to a domain controller: it needs
    credentials the session can pass on (docs/windows-facts.md#a-second-hop-needs-delegated-credentials)."""
    if scope == "ad_gpo" and ctx.writing and not ctx.delegated:
        raise DelegationRequired(
            f"writing the AD GPO '{gpo}' reaches a domain controller from the WinRM session (a second hop),"
            " which needs delegated credentials: connect with CredSSP, or with Kerberos delegation"
            " (a forwardable ticket and ansible_winrm_kerberos_delegation / ansible_psrp_negotiate_delegate)"
        )


def op_citrix_policy_get(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    name, gpo, scope = _addressing(args)
    store = _store(ctx, args)
    if store is None:
        return False, {"available": False, "exists": False, "policy": None}
    policy = store.get(scope, gpo, name)
    return False, {
        "available": True,
        "exists": policy is not None,
        "policy": None if policy is None else policy.to_json(),
    }


def op_citrix_policy_set(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    name, gpo, scope = _addressing(args)
    store = _store(ctx, args)
    if store is None:
        raise NotAvailable(f"The Windows PowerShell snap-in '{SNAPIN}' is not installed on this computer.")
    state = args.get("state", "present")
    spec = args.get("policy")
    changes = store.plan_set(scope, gpo, name, state, spec)
    backup = None
    if changes and ctx.writing:
        _require_delegation(ctx, scope, gpo)
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
        store.apply_set(scope, gpo, name, str(state), spec)
    return bool(changes), {"changes": changes, "backup": backup}


def op_citrix_policy_restore(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    file = require_str(args, "file")
    store = _store(ctx, args)
    if store is None:
        raise NotAvailable(f"The Windows PowerShell snap-in '{SNAPIN}' is not installed on this computer.")
    content = ctx.host.files.read(file)
    if content is None:
        raise NotFound(f"Cannot find path '{file}' because it does not exist.")
    try:
        saved = json.loads(content.decode("utf-8-sig"))
        name, scope, gpo = saved["name"], saved.get("scope", "site"), saved.get("gpo")
        policy = (
            CitrixPolicy.from_json(name, {k: v for k, v in saved["policy"].items() if k != "name"})
            if saved["exists"]
            else None
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadArgument(f"{file} is not a vipctl Citrix policy backup: {exc}") from exc
    if ctx.writing:
        _require_delegation(ctx, scope, gpo)
        store.put(scope, gpo, name, policy)
    # Always reported as a change: the executor rebuilds the policy without comparing first.
    return True, {"file": file, "name": name}

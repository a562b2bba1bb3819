"""The Ansible side of vipctl: the action-plugin base and the connection runner.

It lives in the package, not in the collection's plugin_utils, because the action plugins are
loaded two ways: from `action_plugins = ./plugins/action` (short names from the repository root,
where relative and `ansible_collections.` imports both fail) and as `vipctl.farm.*` from an installed
collection. Importing `vipctl` works in both.
"""

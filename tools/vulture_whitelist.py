"""Names vulture cannot see being used, each with the reason it stays (`make deadcode`).

vulture reads the product code (python/src, plugins, tools, bench) without the tests, so code only
the tests call shows up as dead; what is listed here is used, by a framework or by design.
"""

# ruff: noqa: F821, B018
# Written as bare names and attribute reads, the form vulture's whitelists take.

# Ansible loads these by name: action plugins (`ActionModule`, `TRANSFERS_FILES`), module
# documentation (`DOCUMENTATION`, `EXAMPLES`, `RETURN`, read by ansible-doc and by our argspec
# builder from the file's text), doc fragments and callback plugins.
ActionModule
TRANSFERS_FILES
ModuleDocFragment
DOCUMENTATION
EXAMPLES
RETURN
CallbackModule
CALLBACK_VERSION
CALLBACK_TYPE
CALLBACK_NAME
CALLBACK_NEEDS_ENABLED
_.v2_runner_on_ok
_.v2_runner_on_failed
_.v2_runner_on_skipped
_.v2_runner_on_unreachable
ignore_errors

# Parameters a protocol fixes even where the body does not read them (`__exit__`,
# BaseHTTPRequestHandler.log_message).
exc_type
tb
format

# http.server calls these on the simulator's admin API; socketserver and requests read the attributes.
_.log_message
_.do_GET
_.do_POST
_.do_DELETE
_.daemon_threads
_.trust_env

# Fields of the `net_endpoints` rows (docs/executor-protocol.md): parsed so that a row missing
# them is refused, and carried into the JSON output, though no rule reads them yet.
_.remote_address
_.remote_port

# The registry table documents each value for its reader: what it means, and whether a primary
# source confirms it (docs/windows-facts.md); nothing branches on these.
_.meaning
_.confirmed

# The host model's API (docs/simulator-model-api.md), driven by the contract vectors and the
# model tests to stage a host: start a program in a session, load a .reg file.
_.start_process
import_bytes

# tools/simfarm.py's runner, used by the integration tests (tests/integration/sim_farms.py).
_.play
_.adhoc

# Ansible loads filter plugins by this class name (plugins/filter/desired_state.py).
FilterModule

# The budget the bootstrap's command line is held to; tests/test_bootstrap_length.py checks it and
# the bootstrap's docstring explains it, so it is part of the module's contract.
COMMAND_LINE_BUDGET

# The admin client mirrors every admin-API action, for people driving a simulated farm by hand.
_.grant_access

# urllib3 and requests read these by name: the connection class of a pool, the pool classes of a
# pool manager, and a response's cached body (transport/http_limits.py fills it while capping it).
ConnectionCls
_.pool_classes_by_scheme
_._content
_._content_consumed

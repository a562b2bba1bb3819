"""One entry point per module, called by the Ansible action plugins and the CLI."""

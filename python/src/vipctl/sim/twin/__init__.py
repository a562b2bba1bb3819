"""The Python twin of the shipped PowerShell executor: the same ops, run over the host model.

`dispatch.run_request` implements the request handling of docs/executor-protocol.md (validation,
`when`, stop after the first failure, check mode, backups); one module per op group does the rest."""

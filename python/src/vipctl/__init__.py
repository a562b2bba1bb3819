"""vipctl: roll out and prove per-session addressing on Windows RDSH / Citrix farms."""

__version__ = "0.1.0"

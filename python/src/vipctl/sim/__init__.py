"""A Windows RDSH / Citrix farm simulator speaking real WS-Management on loopback addresses."""

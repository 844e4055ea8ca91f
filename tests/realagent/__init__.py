"""The real Vault agent (OpenBao 2.7.2) runs olrender's agent configuration in a simulated pod."""

"""Test oracles for the secret-manager methods: the real ESO CRD's schema, the real agent, the real provider."""

"""The real data.gouv.fr backend (udata), run locally for the integration tests."""

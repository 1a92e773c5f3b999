"""hdh-wizard: from an anonymised health database to its publication on data.gouv.fr."""

__version__ = "0.1.0"

"""The one catalogue of user-facing strings, French by default, English on request."""

from hdh_wizard.i18n.catalogue import Catalogue, Lang, detect_lang, load_catalogue

__all__ = ["Catalogue", "Lang", "detect_lang", "load_catalogue"]

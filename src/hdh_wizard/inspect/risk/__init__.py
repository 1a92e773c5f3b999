"""Prerequisite I.1, anonymity: what identifies, singles out, links or infers; the report."""

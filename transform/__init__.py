"""Transformation outside Dagster: dbt build, identity resolution between its layers, publishing."""

"""Test-environment helpers that are not part of evalkit."""

"""Tests for shuanglian.reference."""

"""Tests against real servers started by the test session on 127.0.0.1."""

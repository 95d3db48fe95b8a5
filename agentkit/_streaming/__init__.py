"""Streamed model responses: assembling parts from chunks, the events a caller sees, and grouping them in time."""

"""Rack-cue rehearsal: cue sheets, the count-in and rack, and scoring of each take."""

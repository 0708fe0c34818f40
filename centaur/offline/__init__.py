"""Offline operation: recorded exchange responses as a markets source."""

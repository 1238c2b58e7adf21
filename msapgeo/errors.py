"""Exceptions raised by msapgeo. Every message names the file, row or field at fault."""

from __future__ import annotations


class MsapgeoError(Exception):
    """Base class of msapgeo errors."""


class DataNotFoundError(MsapgeoError, FileNotFoundError):
    """A catalog file could be found neither in the cache, nor the mirror, nor online."""


class ChecksumError(MsapgeoError, ValueError):
    """A downloaded or mirrored file does not have the catalog's SHA-256."""


class InputError(MsapgeoError, ValueError):
    """A user input (file, table, column, value) is not usable as given."""


class OSMReadError(MsapgeoError, ValueError):
    """An OSM extract is empty, corrupt or holds no drivable road."""

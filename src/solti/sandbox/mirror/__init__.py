"""A loopback stand-in for the distributions' cloud image sites (see ``server.ImageMirror``)."""

from solti.sandbox.mirror.server import ImageMirror, MirrorRequest

__all__ = ["ImageMirror", "MirrorRequest"]

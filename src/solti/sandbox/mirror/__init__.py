"""A loopback stand-in for the distributions' cloud image sites (see ``server.ImageMirror``)."""

from solti.sandbox.mirror.image_mirror import ImageMirror, MirrorRequest

__all__ = ["ImageMirror", "MirrorRequest"]

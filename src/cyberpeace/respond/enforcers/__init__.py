"""Enforcers: the devices that put a mitigation in force (nftables, ExaBGP, block lists)."""

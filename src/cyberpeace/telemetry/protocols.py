"""Protocol numbers and TCP control bits, as flow records carry them."""

from __future__ import annotations

from typing import Final

# IANA protocol numbers (https://www.iana.org/assignments/protocol-numbers).
ICMP: Final = 1
TCP: Final = 6
UDP: Final = 17
ICMPV6: Final = 58

# TCP control bits, RFC 9293 section 3.1.
FIN: Final = 0x01
SYN: Final = 0x02
RST: Final = 0x04
PSH: Final = 0x08
ACK: Final = 0x10
URG: Final = 0x20

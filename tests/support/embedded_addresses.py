"""IPv6 addresses that embed an IPv4 one, with the verdict the webhook address check must give:
the tables shared by the core and API tests."""

#: (address, why it is refused): each leads to a loopback, private or link-local IPv4 address.
REFUSED = [
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:7f00:2", "IPv4-mapped loopback, hex form"),
    ("::ffff:169.254.169.254", "IPv4-mapped cloud metadata"),
    ("::127.0.0.1", "IPv4-compatible loopback"),
    ("::10.1.2.3", "IPv4-compatible private"),
    ("::2", "IPv4-compatible 0.0.0.2"),
    ("::ffff:0:192.168.1.1", "IPv4-translated (SIIT) private"),
    ("2002:7f00:1::", "6to4 of loopback"),
    ("2002:a9fe:a9fe::1", "6to4 of cloud metadata"),
    ("2002:c0a8:101:1::1", "6to4 of 192.168.1.1"),
    ("64:ff9b::127.0.0.1", "NAT64 of loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 of cloud metadata"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("64:ff9b:1::808:808", "local-use NAT64, even of a public address"),
    ("2001:0:808:808::80ff:fffe", "Teredo whose client is 127.0.0.1 (stored XOR 0xffffffff)"),
    ("2001:0:7f00:1::f7f7:f7f7", "Teredo whose server is 127.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:3f57:fefd", "Teredo whose client is 192.168.1.2"),
]

#: Addresses that lead only to public unicast addresses.
ALLOWED = [
    ("::ffff:93.184.216.34", "IPv4-mapped public"),
    ("2002:5db8:d822::1", "6to4 of 93.184.216.34"),
    ("64:ff9b::5db8:d822", "NAT64 of 93.184.216.34"),
    ("2001:0:4136:e378:8000:63bf:a247:27dd", "Teredo between public addresses"),
    ("2606:4700:4700::1111", "plain public IPv6"),
]

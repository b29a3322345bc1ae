"""How many o200k tokens each non-ASCII character costs on its own (generated: tools/gen_char_costs.py).

A character's own count is what merges with its neighbours can only lower, so an estimate built on it
is never below the real count for these characters.
"""

from __future__ import annotations

import base64
import functools
import zlib

__all__ = ["FIRST_TABLE", "SECOND_TABLE", "char_cost"]

#: The Basic Multilingual Plane above ASCII, and the emoji blocks.
FIRST_TABLE = range(0x80, 0x10000)
SECOND_TABLE = range(0x1F000, 0x1FB00)


@functools.cache
def _costs() -> bytes:
    return zlib.decompress(base64.b64decode("".join(_PACKED)))


def char_cost(ch: str) -> int:
    """Tokens of ``ch`` alone: from the table, else its UTF-8 length (byte-level tokens at worst)."""
    cp = ord(ch)
    if cp in FIRST_TABLE:
        return _costs()[cp - FIRST_TABLE.start]
    if cp in SECOND_TABLE:
        return _costs()[len(FIRST_TABLE) + cp - SECOND_TABLE.start]
    return len(ch.encode("utf-8", "surrogatepass"))


_PACKED = (
    "eNrtnYu27KgKRcfk/v8/39HduxJRQDQmtWuX6cc59Up8IKwFiEh9Af/+cbyavWT86//999OI16t/X8v5/n+vXm9xfOl8Ka+3X3f+"
    "57Wof46n1p0/On68UX0eXfGnI5fRtuQP/23ja7zubGbRQNyG5Pp5TrzTWhYPb93S4yG+GGuZ8oR4ZhTPX3JlvbWLTsYb9PMbXiuN"
    "cv2VK1UIZex48s930DPIYKO0wCBqAauun6P5sxKy45ZvyiEPxvj2ZcOXEiy579yvJ4X1+zQfSCktr3luW6l1caGif7RuoYkjqdON"
    "uWlBf9L1v2cv8d+U6d/Pt0XklMBDqHqKrdYBcmKHcvHYa8SCO+f699dcCSZKq3VKcnP3Akw0y7ZpKYfa5FhJlKNTgZnz+XI+38Uq"
    "hfbpGKDz+dagg/q+P/7Bqo+hxGGQOXCMeoga6rrdk0jnmP8fDclr8k4tpSzN0dfCAknehjRNVNP4etgJcrvjf4jJDMCrTGaFqVPz"
    "Xz/fgNXk+i/n/RElg2IZOf18YWTeC4tI1ZwTuJyCccyEamCpuowFkRx+aQFMn0qVvbjBpnI/x3nqxrfeurKLMmgvz5XT0NbC3FSI"
    "TTy4X9mVlOJr6e4VEeoD7bfCnwS4kbXYqvO9DYC/Cn4/iu8lEE+5Qa6jH5b6URbziNfN/sJkjkuk3CI7o7+TG3XknRz09HsY3j/X"
    "DesBM2k8IF3X4Jfz/1sfMNmEK33/cwZlsrPy7OO0LpLnn/vHpu9Be3cffhtVaPLgWMtL6WbIahQwQIWvjF9VYTpm+ZxQOPihjgfV"
    "TiLjb0WYrw6zLmPqpD4/zfGE8CiWmGsFYUBLBx5FedSAJvg2EiCmOySkR5a5iWL8c8zw72yQ2ht9VsbdJyUYs7+HJ+bKINbe9T8Z"
    "bPt2u571cv/WK2oeEwtKyTq59aeiAFV7FJM7NUoV/T8CCUwrqZFwlfp/Qr3fGGy/yv+NbtuM+13e/86PJ0ihesXm/5v/fzH/X23/"
    "/1lPwmPd3Px/dRvk4f69mf//tnmU90zV7xOhLP93/sy2RSWS6eSiHG4p0686iXNWomybBdtkkXWSnsVP0bGzbCkSSFcmeJiujt4z"
    "GuPxYfH/T7dn8sbmSWb8WT/+T43njv9/oj/nfav5G+P/lyHZRf6/4/+b/38z/79jqe34/+b/m/9v/v8J/P9j9YX8MsFd1sFn+f/I"
    "d+QX6otP5/9/2aZv/r/5/+b/m/9v/r/5/+b/Gyds/v/7+H+Z/S1HEQi9i6yocKYKmMlZNEHOvWdyFOQRqmJuqiaJzn5E/3tmTr8y"
    "HY8CDypXsXir+KGufVDUdtAJiTq1W1UtUwWWkCbRUszs6LNmSPHbJhcUJ8UUK+Ed3UrjXma0Hjt1Hd1fK8EepE7vxCkPRXszzHz9"
    "9pe46edhMapOQj4DddoYzc/Ee2K58bIq5VN0uKhaVhQNKXMoRBc+rDPwy5VyjgHFvDYJCGemsDHwUCYdV9t1zmwMvVqKJGUq2cWd"
    "mSJZGS9Nwi/MUlWKwMywppFxVadxYPuDoaWi0hU6p6SojaHTuWstBe4knapICYOfc1IUfjn1JU2K+yl+Un8uRRkqpRnVoJ9FQo4O"
    "I9i7cxp1ZyiGoF4Uvd0/OQ1aqXv/S1ld4MkFEt6ceA+RJYR2xjydrCKmlJgzgFxVnTxTASfceka91EoFootEojc12hPbfo/ybX1z"
    "9evucDLfz2CtXd3zgaWV+xv+XEyS26xILY8MavBAHrwPSs1UyASnBVfvUFuD0uIQ9BANZZu74esqHIWoboS1Mwd/UyU2GHSmOf1m"
    "+HRmNXAjFDCujJZv0mn0tqoLiIF50DPAUVJRZ9WqUmvFFEtRjbqCvWpAaPXbIc4n35IzjbZcDCbwRwPfsnRYuxppZyy34RoT4RGb"
    "+sy8MqSKruW/PsH/U5uPac2ShvI1p0WMeSwKxdEYxfwwUlOlxlBSGVVpaPhQpU2iXdlVtjsVT7IhWFhkGGOjOm01hKK452tQW8NH"
    "BfmoG1+1VrMTlzPjKfka9mselbDb/gKns6WWSIJRTCPErpg+g77vwDZaaauBW+oASyOuhbkXboy5Hdpic1TmqqEoJ7XEmIaymG0D"
    "l1uLWNLQhvE3awnFsA/9UrpHsLSa9mGK54VjkPpgOtw8MTAXtWjXDPRoAo3yIfQ2JsSBcGM0lj8vjfgI0LFrrTseAp9urFkclV6m"
    "3O2PctvULmMtuhANh4Pu64Gmckab6q44lETpehxg1XIRvVwt+WjAnillpcvHcGnTrgYft6UrxhAQHkpS15wmQevgrivclsZXlc+1"
    "eKVikTVWwBOwpDxX8wWxtrEmiMrxQayyioGTMuSRdd2Rs7K0RIauL4okJ+37wK7ZarqeHhgGrukHkv4FsUeFNMAYG3Cuj3DEv8b3"
    "/3sAtHbeYguuFydTHNmC5pa2GpBTpUpVXZiZ0mYYQNaKItY22XP/AwHFxzI6VdTU02ZUzATHDYruEI3/KML+VnDBgPy1lTRhoDLU"
    "BLYKCwFAh2YExMQxoSZKRRxLTCd63FP5ri8g659J6h8sS+paTxM00hvJjA9Q4km+jkHfFleZ7UET4hbThZ2j5/WRWZ3o4HwFusAP"
    "T3JiBlfswOx332FWyEJMjZXW45DHxj7M+ytsE0voDWHIuUOwWg2GvggdtoEpfAIV6aOeWw1PuIcSZlhXenN8OBn/LjNQqMh4owI0"
    "lI4jV6RND09Cc8QGEDOYgqwuWTc1I4OVR9Wpk9dmnyqpRGFsLAhEC3wg50LIOoiTBRLvkf0AkNjegAH01rW7TKJCRqoFM0Qh7/C7"
    "03NcNJHbbsNGApOtFqKBOgS6G+t+CQvse5TJj5zpUcT1QYxPcRlfIGESQrDWs/vK85uTTMIVQRa0MES4uFfpjM1TRLPIWZjccY49"
    "ZI8RJKyyaFpb0vom3USaxkObylRhxmeGlyrOkilmWF9fFTXlrT8TGFQgAVHHR57BPyrr3nqIySi5PEQLXDwgUYK0BEco0EGEEeCg"
    "S+WMZMcpcanXgel1sSwhtmOu5zqjkXka2SdI23cGlm43+4aaxAKlr6gyHq+8Y4EqQczgutSjBqbVzuMWq8WItBlHKXWjE26jWH1w"
    "EvEao4g7ykRfJW4FpqapPQBZ2M0Qugli9kS2zZWHgQLxI8LPyDQ9R7ou5JeSujnjTkTWDUN6XeDJsishq6DD5FE+3Co+vTurkCWL"
    "8z8z18V9pQ4ZrBPGBmUXW/3T9RkoBw9I6Ex7NniSAiJemiJ+WLE58XEIJVCFU0MzSd/p2GKoBqQSIgNXAmi2yUkUjF/j4Jme3ng3"
    "nB+etbBLcYQK1XwdG461x7PaQwJSrUWQJpXbDbS7b2aUOakB8tcpJtVE04IMiJgAfuUmjBJ7og8ur5uoOStNFkFz5lDMBdKHuRkW"
    "F1M3z5i8u05xWhZMYswZ7Qp4110UY+UAF7U7vFvfRJnRUv6pEmpKIaxSpIvE7OroLePZSLGlo0qDBNvD0+yeLJQMRQJ27Uypagvg"
    "ecMCw9NPfSDWBHRZ2AJZzp6akNSTOQmjyFB9/OLC939D/soYo+T5AXvDLZ9uItF4Yw5/179AApfi7SskUhxZcN/tLk4YIQCWTK4z"
    "6m10JHi4lfdKW9MCb1+D1AmeZ1gOaz6wtvf0IHqddF9vJzTccHW6OnmjnogFqg0TMUItqfTMBtC02HkRxaN4TcI0ds5JhNb551q/"
    "YkeKkfoEMpQR7fhLrfRSEmDwJn0IncJFfjORNS7Rd3pNkSrQYIbsbUU/AtmQZ3CFF7h68rjjT67/999ZiXOCuCxp8Mvr/2U8IF0X"
    "ykAKILmZwXGXea6hRuXPrcGBIkgXErZT1I8xBbDr//+Bwqq7/v9vqEG76/8v6tOu//+B87fr/3e/t+v/L57jXf//Vrv9Z69d//86"
    "B8csIdCv83nBZ6KfF0e+zBJPhr8xCrR5GSjdnMbFfgmrD2XOFzPzN+kHa+d9cv580p4alytLmsB/scx31Kff3LJeO+f/UX2NSf6/"
    "0mFMOpTdT2wx9EST7JWVvZE1Tc4VY1T3GksB8DMaxrTuVWx71V8+6/f15C+b6eHpM2seVIaLtHteVqsHiOsOlH9e52u2XZm1YwTr"
    "b0YXrJAfJvVXZPunglfGZ+WCYnL+rsSyluPBh/n/ivjXFf5/IYS0Xk8gbTKpFTqerPYQYD6impTW76awt7H6Rvk/wfyNYD5uDs/2"
    "sDATutKYB7S8OEXDuCE/zD/up1vSkV76Q6bvP3+97Oe7yGGf4P9M8r8J/Fnmc4GDpVbZH6nwp4U1wl2iXMOKJOy7XLC/mcGBeT/E"
    "6uSe2bToUJYG8d8I//8lvs572iW5KLE4foCnxujJHCzDBsTJoheT+Qz84mxy7K8H5JpeuiNhj9GxXq17yOslD/cM49064/Qiobk6"
    "1jv+/2z8n5ffeBA/RRi6xt4qsznCyct4nNqOGD6vqfw/x+NCPc98EZnuuHg8YNgvnC1B38GKrj3KjKfB9X2dZd8z5XQK4v/h8xgt"
    "SHfJT8stdmwhD7hBf8c+gTkbR2YDzUr/81X/3R3EeMf/x+cPenJGffr6bb40U89P2pUZvZT94azfJlo/Ic+ZXD84yWaZcVmCUYw+"
    "PFW0uOdfcmO7a31rY/KT5f83ccO7/EtTfu9gPEMb/kD+0u2cuaOXZuwEk/abRfZbBvKXZuIPk/gzNbcr8cuV/CW//uCYTr4TIxFo"
    "NKr5n63HlW1MmR8llf5MVKLMyiAuT+3wOC4mrEX+xmFuPylLGZ08jDUS/jMGci/kOrUY058DRXWntv9dzP/f1772ta997Wtf33e9"
    "1X97xQ+69/9Pd2fv/w/bsvf/L+rT3v//Dfp/7/9f1v29//9RnSmT4s/C+P/e/3+Pwtjx/4+evve14cvq//22edz5/92bhPn/79j/"
    "/4a0gtE6k+53Nv/f/H/z/83/v5X/t/bgfVK8+f/m/0/z/zcr5c3/38z/ryZpbv7/4fz/xvjn59X/B/muC3VYXnDJecDauW2vPAlJ"
    "k87yJHVUnZ2B865ZMx9Ex/B8rL7Y8f9b9dfX8P/vvVYq+1fBIBbd7Xd7H+v188H8H++A5fQ48NaZ2/x/8/8r5Pvd2mjz//fy//8D"
    "FPB4dQ=="
)

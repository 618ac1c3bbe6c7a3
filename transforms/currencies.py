"""ISO 4217 alphabetic currency codes that an order may be priced in.

The active codes of ISO 4217 list one (as amended to 2025), fund codes
included (e.g. ``CHE``, ``USN``). Left out on purpose, because no order is
priced in them: precious metals (``XAU``, ``XAG``, ``XPD``, ``XPT``), the
SDR and bond-market units (``XDR``, ``XBA``..``XBD``, ``XSU``, ``XUA``),
the testing code ``XTS`` and "no currency" ``XXX``; and codes withdrawn
before 2024 (e.g. ``HRK``, ``DEM``). ``ANG`` and ``XCG`` are both listed
while the Caribbean guilder replaces the Netherlands Antillean guilder.
"""

ISO_4217_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN
    BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK
    DJF DKK DOP DZD
    EGP ERN ETB EUR
    FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF
    IDR ILS INR IQD IRR ISK
    JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN
    NAD NGN NIO NOK NPR NZD
    OMR
    PAB PEN PGK PHP PKR PLN PYG
    QAR
    RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV
    WST
    XAF XCD XCG XOF XPF
    YER
    ZAR ZMW ZWG ZWL
""".split()
)

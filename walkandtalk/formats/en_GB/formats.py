"""British English on a 24-hour clock: "7 Dec 2026, 17:38". Django's en_GB formats use "P"
("5:38 p.m."); settings.TIME_FORMAT alone does not override a locale's own formats. Anything not
named here comes from Django's en_GB formats."""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"

"""The overlay's one colour language (BGR), so no two elements contradict each other.

- **green**: sharp - the sharpest tiles of the heat map, an in-focus meter,
  peaking edges, and the focus bar's focus line and depth-of-field band (the
  distances that are sharp);
- **red**: soft - a meter of a subject out of focus, and the heat map's lit
  tiles furthest below the sharpest;
- **amber**: the target - its box, its marker on the focus bar, the guide's
  arrow towards it and the magnifier showing it;
- **white / grey**: everything else - other subjects, scales, text; grey
  for a subject held on the tracker's prediction.

Alarms (a stopped or faulty driver, the REC dot) are red as well: both mean
"look here now".
"""

from __future__ import annotations

Colour = tuple[int, int, int]

SHARP: Colour = (80, 220, 80)
SOFT: Colour = (60, 60, 230)
TARGET: Colour = (0, 215, 255)
OTHER: Colour = (255, 255, 255)
HELD: Colour = (150, 150, 150)
SCALE: Colour = (200, 200, 200)
ALARM: Colour = (80, 80, 255)

SHARP_HUE = 60
"""OpenCV hue (0..180) of green: the heat map runs from red (hue 0) to this for the sharpest tiles."""

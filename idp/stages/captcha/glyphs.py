"""A small stroke font for the built-in challenge, and its distorted drawing.

The characters become SVG paths, never text, so the answer is not in the page as text; each
stroke is bent, turned and jittered from a per-challenge seed, so the same challenge looks
the same on every reload (no fresh samples to average) while two challenges never match.
Characters that look alike (0/O, 1/I, 2/Z, 5/S, 8/B) are left out.
"""

import math
import random

# Strokes on a 4-wide, 6-high grid, y downwards.
STROKES = {
    "A": [[(0, 6), (2, 0), (4, 6)], [(1, 3.6), (3, 3.6)]],
    "C": [[(4, 1), (3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5)]],
    "D": [[(0, 0), (0, 6), (2.5, 6), (4, 4.5), (4, 1.5), (2.5, 0), (0, 0)]],
    "E": [[(4, 0), (0, 0), (0, 6), (4, 6)], [(0, 3), (3, 3)]],
    "F": [[(4, 0), (0, 0), (0, 6)], [(0, 3), (3, 3)]],
    "H": [[(0, 0), (0, 6)], [(4, 0), (4, 6)], [(0, 3), (4, 3)]],
    "K": [[(0, 0), (0, 6)], [(4, 0), (0, 3.5)], [(1.5, 2.6), (4, 6)]],
    "L": [[(0, 0), (0, 6), (4, 6)]],
    "M": [[(0, 6), (0, 0), (2, 3.5), (4, 0), (4, 6)]],
    "N": [[(0, 6), (0, 0), (4, 6), (4, 0)]],
    "P": [[(0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)]],
    "R": [[(0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)], [(2, 3), (4, 6)]],
    "T": [[(0, 0), (4, 0)], [(2, 0), (2, 6)]],
    "U": [[(0, 0), (0, 5), (1, 6), (3, 6), (4, 5), (4, 0)]],
    "V": [[(0, 0), (2, 6), (4, 0)]],
    "W": [[(0, 0), (1, 6), (2, 2), (3, 6), (4, 0)]],
    "X": [[(0, 0), (4, 6)], [(4, 0), (0, 6)]],
    "Y": [[(0, 0), (2, 3), (4, 0)], [(2, 3), (2, 6)]],
    "3": [[(0, 0), (4, 0), (2, 2.5), (3, 2.5), (4, 3.5), (4, 5), (3, 6), (1, 6), (0, 5)]],
    "4": [[(3, 6), (3, 0), (0, 4), (4, 4)]],
    "7": [[(0, 0), (4, 0), (1.5, 6)]],
    "9": [[(4, 3), (1, 3), (0, 2), (0, 1), (1, 0), (3, 0), (4, 1), (4, 5), (3, 6), (0, 6)]],
}
ALPHABET = "".join(STROKES)
WIDTH, HEIGHT = 200, 70
CELL = 36
NOISE_LINES = 3


def draw(text: str, seed: int) -> list[str]:
    """The SVG path data of `text` drawn distorted, plus noise strokes, in shuffled order."""
    chance = random.Random(seed)
    paths = []
    for index, character in enumerate(text):
        centre = (22 + index * CELL + chance.uniform(-3, 3), HEIGHT / 2 + chance.uniform(-6, 6))
        bend = _bend(chance, centre)
        paths.extend(_path([bend(point) for point in stroke]) for stroke in STROKES[character])
    paths.extend(_noise(chance) for _ in range(NOISE_LINES))
    chance.shuffle(paths)
    return paths


def _bend(chance: random.Random, centre):
    scale = chance.uniform(5.8, 7.2)
    shear = chance.uniform(-0.3, 0.3)
    angle = chance.uniform(-0.3, 0.3)
    cosine, sine = math.cos(angle), math.sin(angle)

    def bend(point):
        u, v = (point[0] - 2) * scale, (point[1] - 3) * scale
        u += shear * v
        x = centre[0] + u * cosine - v * sine + chance.uniform(-0.8, 0.8)
        y = centre[1] + u * sine + v * cosine + chance.uniform(-0.8, 0.8)
        return x, y

    return bend


def _noise(chance: random.Random) -> str:
    start = (chance.uniform(0, 30), chance.uniform(5, HEIGHT - 5))
    control = (chance.uniform(60, 140), chance.uniform(-20, HEIGHT + 20))
    end = (chance.uniform(WIDTH - 30, WIDTH), chance.uniform(5, HEIGHT - 5))
    return "M{:.1f} {:.1f} Q{:.1f} {:.1f} {:.1f} {:.1f}".format(*start, *control, *end)


def _path(points) -> str:
    first, *rest = points
    return f"M{first[0]:.1f} {first[1]:.1f}" + "".join(f" L{x:.1f} {y:.1f}" for x, y in rest)

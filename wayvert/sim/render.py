"""Fast numpy ray-cast renderer of a :class:`Scene` for any wayvert rig.

Per camera the renderer precomputes (once) the rays of an internal grid (at most ``max_internal_width``
columns; the full resolution for small cameras) in the vehicle frame; ``render`` casts them against the
ground plane and the vehicle boxes in the vehicle frame (the scene is moved into it, which is cheap),
shades, and converts to the camera's pixel format at full resolution by nearest-neighbour upsampling.
Distances to lane markings / road edges use segments bucketed on a dense 2-D grid table.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from wayvert.sensors import camera_models

from .scene import Scene

ToVehicle = Callable[[Any], np.ndarray]        # world-frame points [N, 2] -> vehicle frame [N, 2]
Pose = tuple[float, float, float, float, float]  # ego x, y, cos(yaw), sin(yaw), yaw
GridHits = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

GROUND_RANGE_M = 80.0
MARKING_HALF_WIDTH_M = 0.075
EDGE_RADIUS_M = 12.0  # ground farther than this from every road edge is grass
DASH_ON_M, DASH_PERIOD_M = 3.0, 9.0

SKY_TOP = np.array([70.0, 120.0, 200.0])
SKY_HORIZON = np.array([185.0, 205.0, 225.0])
ASPHALT = np.array([92.0, 92.0, 96.0])
GRASS = np.array([70.0, 120.0, 50.0])
MARKING = np.array([235.0, 235.0, 230.0])
HAZE = np.array([150.0, 160.0, 170.0])
VEHICLE_COLOURS = np.array([
    [180, 30, 30], [30, 60, 170], [220, 220, 220], [40, 40, 40], [200, 170, 30],
    [30, 140, 70], [120, 120, 130], [150, 60, 150],
], dtype=np.float64)

_KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def _hash01(ix: np.ndarray, iy: np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic integer hash of lattice coordinates -> [0, 1)."""
    h = (ix.astype(np.int64) * 73856093) ^ (iy.astype(np.int64) * 19349663) ^ (seed * 83492791)
    h = h & 0xFFFFFFFF
    h = (h ^ (h >> 13)) * 1274126177 & 0xFFFFFFFF
    h = h ^ (h >> 16)
    return (h & 0xFFFF).astype(np.float64) / 65536.0


class _SegmentGrid:
    """Segments (a -> b) registered in every cell of a square grid their bbox (+ radius) touches."""

    # Per segment, set by the renderer: lane markings' arc length at a, length and solid flag; road edges' index
    # and the road side of each edge.
    s0: np.ndarray
    seglen: np.ndarray
    solid: np.ndarray
    edge_of: np.ndarray
    road_sign: np.ndarray

    def __init__(self, a: np.ndarray, b: np.ndarray, radius: float, cell: float, extent: float) -> None:
        self.a, self.b = a, b
        self.d = b - a
        self.len2 = np.maximum((self.d ** 2).sum(1), 1e-12)
        self.cell = cell
        self.lo = -extent - radius
        self.n = int(math.ceil(2 * (extent + radius) / cell))
        n = self.n
        lo = np.floor((np.minimum(a, b) - radius - self.lo) / cell).astype(np.int64)
        hi = np.floor((np.maximum(a, b) + radius - self.lo) / cell).astype(np.int64)
        lo, hi = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
        cells, segs = [], []
        for s in range(len(a)):
            gx, gy = np.meshgrid(np.arange(lo[s, 0], hi[s, 0] + 1), np.arange(lo[s, 1], hi[s, 1] + 1), indexing="ij")
            c = (gx * n + gy).ravel()
            cells.append(c)
            segs.append(np.full(c.shape, s, np.int64))
        if cells:
            cells_a, segs_a = np.concatenate(cells), np.concatenate(segs)
            order = np.argsort(cells_a, kind="stable")
            cells_a, segs_a = cells_a[order], segs_a[order]
            counts = np.bincount(cells_a, minlength=n * n)
            k = max(int(counts.max()), 1)
            start = np.concatenate([[0], np.cumsum(counts)[:-1]])
            rank = np.arange(len(cells_a)) - start[cells_a]
            table = np.full((n * n, k), -1, np.int64)
            table[cells_a, rank] = segs_a
        else:
            table = np.full((n * n, 1), -1, np.int64)
        self.table = table

    def query(self, p: np.ndarray) -> GridHits:
        """For points p[N, 2]: (rows into p with candidates, cand[M, K], dist[M, K] (inf if none), t[M, K], cross[M, K])."""
        ij = np.floor((p - self.lo) / self.cell).astype(np.int64)
        inside = (ij >= 0).all(1) & (ij < self.n).all(1)
        rows = np.nonzero(inside)[0]
        cand = self.table[ij[rows, 0] * self.n + ij[rows, 1]]
        has = (cand >= 0).any(1)
        rows, cand = rows[has], cand[has]
        ok = cand >= 0
        c = np.where(ok, cand, 0)
        pp = p[rows][:, None, :]
        rel = pp - self.a[c]
        d = self.d[c]
        t = np.clip((rel * d).sum(-1) / self.len2[c], 0.0, 1.0)
        diff = rel - t[..., None] * d
        dist = np.sqrt((diff ** 2).sum(-1))
        dist = np.where(ok, dist, np.inf)
        cross = d[..., 0] * rel[..., 1] - d[..., 1] * rel[..., 0]
        return rows, c, dist, t, cross


def _resample(poly: np.ndarray, step: float) -> np.ndarray:
    if len(poly) < 2:
        return poly
    seg = np.sqrt((np.diff(poly, axis=0) ** 2).sum(1))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return poly[:1]
    n = max(int(math.ceil(s[-1] / step)), 1)
    q = np.linspace(0.0, s[-1], n + 1)
    return np.stack([np.interp(q, s, poly[:, 0]), np.interp(q, s, poly[:, 1])], axis=1)


class _CameraRays:
    def __init__(self, cam: Any, max_w: int):
        W, H = int(cam.width), int(cam.height)
        wi = min(W, int(max_w))
        hi = max(1, min(H, int(round(H * wi / W))))
        self.name, self.W, self.H, self.wi, self.hi = cam.name, W, H, wi, hi
        self.fmt = cam.pixel_format
        self.matrix = getattr(cam, "color_matrix", "bt601") or "bt601"
        self.full_range = getattr(cam, "color_range", "full") == "full"
        jj, ii = np.meshgrid((np.arange(wi) + 0.5) * W / wi - 0.5, (np.arange(hi) + 0.5) * H / hi - 0.5)
        uv = np.stack([jj.ravel(), ii.ravel()], axis=1)
        rays, valid = camera_models.unproject(cam.model, uv)
        rays = np.asarray(rays, np.float64)
        valid = np.asarray(valid, bool) & np.isfinite(rays).all(1)
        rays = np.where(valid[:, None], rays, 0.0)
        R = np.asarray(cam.extrinsics.R_vehicle_from_optical, np.float64)
        d = rays @ R.T
        nrm = np.linalg.norm(d, axis=1, keepdims=True)
        self.dirs = np.where(nrm > 0, d / np.maximum(nrm, 1e-12), 0.0)
        self.valid = valid
        self.origin = np.asarray(cam.extrinsics.translation_m, np.float64)
        # Nearest-neighbour maps full resolution -> internal grid.
        self.rows = np.minimum(((np.arange(H) + 0.5) * hi / H).astype(np.int64), hi - 1)
        self.cols = np.minimum(((np.arange(W) + 0.5) * wi / W).astype(np.int64), wi - 1)
        # Ground hits (scene independent).
        dz = self.dirs[:, 2]
        oz = self.origin[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(dz < -1e-9, -oz / dz, np.inf)
        tt = np.where(np.isfinite(t), t, 0.0)
        hit = self.origin[None, :2] + tt[:, None] * self.dirs[:, :2]
        g = valid & np.isfinite(t) & (np.hypot(hit[:, 0], hit[:, 1]) <= GROUND_RANGE_M)
        self.ground_t = np.where(g, t, np.inf)
        self.ground_idx = np.nonzero(g)[0]
        self.ground_xy = hit[self.ground_idx]
        # Background: sky above the horizon, haze (distant ground) below it.
        elev = np.clip(dz, -1.0, 1.0)
        self.sky_w = np.clip(elev / 0.5, 0.0, 1.0) ** 0.7


class Renderer:
    """``Renderer(rig).render(scene) -> {camera name: frame in the camera's pixel format}``."""

    def __init__(self, rig: Any, max_internal_width: int = 256):
        self.rig = rig
        self.cams = [_CameraRays(c, max_internal_width) for c in rig.cameras]

    # ---- scene preparation (world -> vehicle frame) ----
    @staticmethod
    def _to_vehicle(scene: Scene) -> tuple[ToVehicle, Pose]:
        ex, ey, eyaw = scene.ego
        c, s = math.cos(eyaw), math.sin(eyaw)

        def tf(p: Any) -> np.ndarray:
            q = np.asarray(p, np.float64) - (ex, ey)
            return np.stack([c * q[:, 0] + s * q[:, 1], -s * q[:, 0] + c * q[:, 1]], axis=1)
        return tf, (ex, ey, c, s, eyaw)

    def _marking_grid(self, scene: Scene, tf: ToVehicle) -> _SegmentGrid | None:
        A, B, S0, L, SOLID = [], [], [], [], []
        lim = GROUND_RANGE_M + 10.0
        for pts, style in scene.lane_markings:
            if len(pts) < 2:
                continue
            seg = np.sqrt((np.diff(pts, axis=0) ** 2).sum(1))
            s0 = np.concatenate([[0.0], np.cumsum(seg)[:-1]])
            v = tf(pts)
            a, b = v[:-1], v[1:]
            keep = ~((np.minimum(a, b) > lim).any(1) | (np.maximum(a, b) < -lim).any(1)) & (seg > 1e-9)
            A.append(a[keep]); B.append(b[keep]); S0.append(s0[keep]); L.append(seg[keep])
            SOLID.append(np.full(int(keep.sum()), style == "solid"))
        if not A or sum(len(a) for a in A) == 0:
            return None
        g = _SegmentGrid(np.concatenate(A), np.concatenate(B), MARKING_HALF_WIDTH_M, 2.0, GROUND_RANGE_M)
        g.s0, g.seglen, g.solid = np.concatenate(S0), np.concatenate(L), np.concatenate(SOLID)
        return g

    def _edge_grid(self, scene: Scene, tf: ToVehicle) -> _SegmentGrid | None:
        A, B, E = [], [], []
        lim = GROUND_RANGE_M + 40.0
        for k, e in enumerate(scene.road_edges):
            if len(e) < 2:
                continue
            v = tf(_resample(e, 10.0))
            a, b = v[:-1], v[1:]
            keep = ~((np.minimum(a, b) > lim).any(1) | (np.maximum(a, b) < -lim).any(1))
            A.append(a[keep]); B.append(b[keep]); E.append(np.full(int(keep.sum()), k))
        if not A or sum(len(a) for a in A) == 0:
            return None
        a, b, e = np.concatenate(A), np.concatenate(B), np.concatenate(E)
        g = _SegmentGrid(a, b, EDGE_RADIUS_M, 4.0, GROUND_RANGE_M)
        # Road side of each edge: the side the ego origin is on (nearest segment of that edge).
        road_sign = np.ones(len(scene.road_edges))
        for k in np.unique(e):
            m = e == k
            aa, dd = a[m], b[m] - a[m]
            t = np.clip((-aa * dd).sum(1) / np.maximum((dd ** 2).sum(1), 1e-12), 0, 1)
            dist = np.hypot(*(-aa - t[:, None] * dd).T)
            j = int(np.argmin(dist))
            cr = dd[j, 0] * (-aa[j, 1]) - dd[j, 1] * (-aa[j, 0])
            road_sign[k] = 1.0 if cr >= 0 else -1.0
        g.edge_of, g.road_sign = e, road_sign
        return g

    # ---- shading ----
    def _shade_ground(self, xy: np.ndarray, world_xy: np.ndarray, mgrid: _SegmentGrid | None,
                      egrid: _SegmentGrid | None) -> np.ndarray:
        n = len(xy)
        ix = np.floor(world_xy[:, 0] / 0.25).astype(np.int64)
        iy = np.floor(world_xy[:, 1] / 0.25).astype(np.int64)
        noise = _hash01(ix, iy) - 0.5
        coarse = _hash01(np.floor(world_xy[:, 0] / 3.0).astype(np.int64), np.floor(world_xy[:, 1] / 3.0).astype(np.int64), 7) - 0.5
        grass = np.zeros(n, bool)
        if egrid is not None:
            rows, c, dist, t, cross = egrid.query(xy)
            grass[:] = True  # no edge nearby -> far off the road
            if len(rows):
                j = np.argmin(dist, axis=1)
                r = np.arange(len(rows))
                cj, crj = c[r, j], cross[r, j]
                side = np.where(crj >= 0, 1.0, -1.0)
                grass[rows] = side != egrid.road_sign[egrid.edge_of[cj]]
        col = np.where(grass[:, None], GRASS, ASPHALT)
        col = col * (1.0 + 0.18 * noise[:, None] + 0.08 * coarse[:, None])
        if mgrid is not None:
            rows, c, dist, t, _ = mgrid.query(xy)
            if len(rows):
                s = mgrid.s0[c] + t * mgrid.seglen[c]
                on = mgrid.solid[c] | (np.mod(s, DASH_PERIOD_M) < DASH_ON_M)
                mark = ((dist <= MARKING_HALF_WIDTH_M) & on).any(1)
                col[rows[mark]] = MARKING * (1.0 + 0.05 * noise[rows[mark], None])
        return col

    def _render_camera(self, cam: _CameraRays, scene: Scene, tf: ToVehicle, pose: Pose, mgrid: _SegmentGrid | None,
                       egrid: _SegmentGrid | None, boxes: Sequence[tuple[float, ...]]) -> np.ndarray:
        ex, ey, c, s, _ = pose
        npx = cam.wi * cam.hi
        w = cam.sky_w[:, None]
        img = np.where(cam.dirs[:, 2:3] >= 0, SKY_HORIZON * (1 - w) + SKY_TOP * w, HAZE)
        gidx = cam.ground_idx
        if len(gidx):
            xy = cam.ground_xy
            world = np.stack([ex + c * xy[:, 0] - s * xy[:, 1], ey + s * xy[:, 0] + c * xy[:, 1]], axis=1)
            g = self._shade_ground(xy, world, mgrid, egrid)
            # distance fog towards the haze colour
            fog = np.clip(cam.ground_t[gidx] / (GROUND_RANGE_M * 1.4), 0, 1)[:, None] ** 1.5
            img[gidx] = g * (1 - fog) + HAZE * fog
        # vehicles
        best_t = cam.ground_t.copy()
        o, D = cam.origin, cam.dirs
        valid = cam.valid
        for k, (bx, by, byaw, bl, bw, bh) in enumerate(boxes):
            cb, sb = math.cos(byaw), math.sin(byaw)
            ox, oy = o[0] - bx, o[1] - by
            lox, loy = cb * ox + sb * oy, -sb * ox + cb * oy
            ldx = cb * D[:, 0] + sb * D[:, 1]
            ldy = -sb * D[:, 0] + cb * D[:, 1]
            ldz = D[:, 2]
            tmin = np.zeros(npx)
            tmax = np.full(npx, np.inf)
            axis = np.full(npx, -1, np.int8)
            for ax, (lo_, d_, lo_b, hi_b) in enumerate(((lox, ldx, -bl / 2, bl / 2), (loy, ldy, -bw / 2, bw / 2),
                                                          (o[2], ldz, 0.0, bh))):
                with np.errstate(divide="ignore", invalid="ignore"):
                    inv = 1.0 / d_
                    t1 = (lo_b - lo_) * inv
                    t2 = (hi_b - lo_) * inv
                near = np.fmin(t1, t2)
                far = np.fmax(t1, t2)
                par = d_ == 0
                inside_slab = (lo_ >= lo_b) & (lo_ <= hi_b)
                near = np.where(par, np.where(inside_slab, -np.inf, np.inf), near)
                far = np.where(par, np.where(inside_slab, np.inf, -np.inf), far)
                upd = near > tmin
                axis = np.where(upd, ax, axis)
                tmin = np.maximum(tmin, near)
                tmax = np.minimum(tmax, far)
            hit = valid & (tmin <= tmax) & (tmin > 0) & (tmin < best_t)
            if not hit.any():
                continue
            best_t = np.where(hit, tmin, best_t)
            base = VEHICLE_COLOURS[k % len(VEHICLE_COLOURS)]
            shade = np.where(axis[hit] == 2, 1.1, np.where(axis[hit] == 0, 0.8, 0.6))
            img[hit] = np.clip(base[None, :] * shade[:, None], 0, 255)
        img[~valid] = 0.0
        return img

    @staticmethod
    def _grade(img: np.ndarray, scene: Scene) -> np.ndarray:
        if scene.weather == "rain":
            m = img.mean(axis=-1, keepdims=True)
            img = (0.55 * img + 0.45 * m) * 0.72 + 8.0
            img = 0.6 * img + 0.4 * 70.0
        if scene.lighting == "dusk":
            img = img * np.array([0.62, 0.48, 0.38])
        return img

    def render(self, scene: Scene | dict[str, Any]) -> dict[str, np.ndarray]:
        if isinstance(scene, dict):
            scene = Scene.from_dict(scene)
        tf, pose = self._to_vehicle(scene)
        mgrid = self._marking_grid(scene, tf)
        egrid = self._edge_grid(scene, tf)
        boxes = []
        for (x, y, yaw, l, w, h) in scene.vehicles:
            v = tf(np.array([[x, y]]))[0]
            if np.hypot(*v) <= GROUND_RANGE_M + 40.0:
                boxes.append((v[0], v[1], yaw - pose[4], l, w, h))
        out = {}
        for cam in self.cams:
            img = self._render_camera(cam, scene, tf, pose, mgrid, egrid, boxes)
            img = self._grade(img, scene)
            out[cam.name] = to_pixel_format(img.reshape(cam.hi, cam.wi, 3), cam)
        return out


def rgb_to_yuv(rgb: np.ndarray, matrix: str = "bt601",
               full_range: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float RGB (0..255) -> uint8 Y, U, V planes for ``matrix`` (bt601 / bt709) and range."""
    kr, kb = _KR_KB[matrix]
    kg = 1.0 - kr - kb
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = kr * r + kg * g + kb * b
    u = (b - y) / (2.0 * (1.0 - kb))
    v = (r - y) / (2.0 * (1.0 - kr))
    if full_range:
        Y, U, V = y, u + 128.0, v + 128.0
    else:
        Y, U, V = 16.0 + y * (219.0 / 255.0), 128.0 + u * (224.0 / 255.0), 128.0 + v * (224.0 / 255.0)
    def q(a: np.ndarray) -> np.ndarray:
        plane: np.ndarray = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return plane
    return q(Y), q(U), q(V)


def to_pixel_format(img: np.ndarray, cam: _CameraRays) -> np.ndarray:
    """Internal float RGB [hi, wi, 3] -> the camera's pixel format at full resolution."""
    rows, cols, fmt = cam.rows, cam.cols, cam.fmt
    if fmt in ("rgb8", "bgr8"):
        small = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        if fmt == "bgr8":
            small = small[..., ::-1]
        return np.ascontiguousarray(small[rows][:, cols])
    if fmt == "bayer_rggb8":
        small = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        full = small[rows][:, cols]  # [H, W, 3]
        H, W = full.shape[:2]
        out = np.empty((H, W), np.uint8)
        out[0::2, 0::2] = full[0::2, 0::2, 0]
        out[0::2, 1::2] = full[0::2, 1::2, 1]
        out[1::2, 0::2] = full[1::2, 0::2, 1]
        out[1::2, 1::2] = full[1::2, 1::2, 2]
        return out
    Y, U, V = rgb_to_yuv(img, cam.matrix, cam.full_range)
    H, W = cam.H, cam.W
    if fmt == "nv12":
        out = np.empty((H * 3 // 2, W), np.uint8)
        out[:H] = Y[rows][:, cols]
        r2, c2 = rows[0::2][: H // 2], cols[0::2][: W // 2]
        uv = out[H:].reshape(H // 2, W // 2, 2)
        uv[..., 0] = U[r2][:, c2]
        uv[..., 1] = V[r2][:, c2]
        return out
    if fmt == "yuyv":
        out = np.empty((H, W // 2, 4), np.uint8)
        Yf = Y[rows][:, cols]
        c2 = cols[0::2][: W // 2]
        out[..., 0] = Yf[:, 0::2]
        out[..., 1] = U[rows][:, c2]
        out[..., 2] = Yf[:, 1::2]
        out[..., 3] = V[rows][:, c2]
        return out.reshape(H, 2 * W)
    raise ValueError(f"pixel format {fmt!r} is not supported by the renderer")

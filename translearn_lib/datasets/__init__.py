"""Datasets used in the course, all available offline.

- MovieLens-100K (real ratings, titles, genres, demographics): :func:`load_movielens_100k`.
- Further sources (synthetic cross-domain shop, digit domains) live in their own modules and are
  re-exported here.
"""

from translearn_lib.datasets.movielens import MovieLens, item_texts, load_movielens_100k  # noqa: F401
from translearn_lib.datasets.shop import CrossDomainShop, make_cross_domain_shop  # noqa: F401
from translearn_lib.datasets.digits import DigitDomain, load_digit_domains, load_mnist, load_optdigits, stratified_subset  # noqa: F401

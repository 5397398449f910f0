"""stats: summary statistics of a list of numbers (Python, async handler, warm)."""
import statistics


async def handler(input, ctx):
    numbers = (input or {}).get("numbers")
    if not isinstance(numbers, list) or not numbers:
        raise ValueError("input.numbers must be a non-empty list of numbers")
    ctx.log.info("summarising", {"count": len(numbers)})
    return {
        "count": len(numbers),
        "mean": statistics.fmean(numbers),
        "median": statistics.median(numbers),
        "stdev": statistics.pstdev(numbers),
        "min": min(numbers),
        "max": max(numbers),
    }

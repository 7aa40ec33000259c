"""The recruitment chain a disclosure names, passed on so the risk service can propagate risk."""

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.findings import ChainLink


def chain_links(disclosure: SupplierDisclosure | RecruiterDisclosure) -> list[ChainLink]:
    """Suppliers name the recruiters that staff them; recruiters name the employers they staff."""
    if isinstance(disclosure, RecruiterDisclosure):
        return [
            ChainLink(
                recruiter_id=disclosure.recruiter.recruiter_id,
                supplier_id=placement.employer_supplier_id,
                workers=placement.workers_placed,
                workforce_share=None,
                field=f"$.placements[{index}].employer_supplier_id",
            )
            for index, placement in enumerate(disclosure.placements)
            if placement.employer_supplier_id is not None
        ]
    total = disclosure.workforce.total_workers
    return [
        ChainLink(
            recruiter_id=used.recruiter_id,
            supplier_id=disclosure.supplier.supplier_id,
            workers=used.workers_supplied,
            workforce_share=(
                min(1.0, used.workers_supplied / total)
                if used.workers_supplied is not None and total
                else None
            ),
            field=f"$.recruiters_used[{index}].recruiter_id",
        )
        for index, used in enumerate(disclosure.recruiters_used)
    ]

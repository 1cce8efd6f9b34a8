export enum VoteSupport {
    AGAINST = "AGAINST",
    FOR = "FOR",
    ABSTAIN = "ABSTAIN",
}

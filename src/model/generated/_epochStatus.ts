export enum EpochStatus {
    OPEN = "OPEN",
    CLOSED = "CLOSED",
}

export enum ContributionKind {
    DATA = "DATA",
    COMPUTE = "COMPUTE",
    TRAINING = "TRAINING",
    EVALUATION = "EVALUATION",
    CODE = "CODE",
}

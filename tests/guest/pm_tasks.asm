; umbra-args: -bios {bin} -no-reboot
; Hardware task switches (SDM vol. 3A, chapter 7): JMP and CALL to a TSS
; descriptor and through task gates (GDT and IDT), IRET back through the
; back link, busy bits and NT, register save/restore, CR0.TS, and #DF
; delivered through a task gate with its error code on the new stack.
%include "lib.inc"
%include "pm_lib.inc"

t1_count    equ scratch + 0x00
t1_tr       equ scratch + 0x04
t1_flags    equ scratch + 0x08
t1_link     equ scratch + 0x0c
t1_esp      equ scratch + 0x10
t1_cr0      equ scratch + 0x14
df_err      equ scratch + 0x20
df_esp      equ scratch + 0x24
df_link     equ scratch + 0x28
df_eip      equ scratch + 0x2c
df_flags    equ scratch + 0x30

; TSS_INIT base, eip, esp: a ring-0 flat task with interrupts off.
%macro TSS_INIT 3
    mov dword [%1 + 0x1c], 0
    mov dword [%1 + 0x20], %2
    mov dword [%1 + 0x24], 2
    mov dword [%1 + 0x38], %3
    mov dword [%1 + 0x48], 0x10
    mov dword [%1 + 0x4c], 0x08
    mov dword [%1 + 0x50], 0x10
    mov dword [%1 + 0x54], 0x10
    mov dword [%1 + 0x58], 0x10
    mov dword [%1 + 0x5c], 0x10
    mov dword [%1 + 0x60], 0
    mov word [%1 + 0x66], 0x68
%endmacro

; Type nibble of the TSS descriptor `sel` (9 available, 0xB busy).
%macro TSS_TYPE 1
    movzx eax, byte [GDT_BASE + %1 + 5]
    and eax, 0x0f
%endmacro

main:
    PRINT "pm_tasks", 10
    TSS_INIT TSS1, task1, 0xb000
    TSS_INIT TSS2, df_task, 0xc000
    ; 0x48: task gate (GDT) -> TSS1; IDT 0x60 -> TSS1; IDT 8 (#DF) -> TSS2
    mov edi, GDT_BASE + 0x48
    xor eax, eax
    mov bx, 0x30
    mov ecx, 0x8500
    call make_gate
    mov edi, IDT_BASE + 0x60 * 8
    call make_gate
    mov edi, IDT_BASE + 8 * 8
    mov bx, 0x38
    call make_gate

    ; ---- JMP to a TSS descriptor, JMP back ----
    mov ebx, 0x12345678
    jmp 0x30:0
    CHECK_EQ "jmp count", [t1_count], 1
    CHECK_EQ "jmp tr", [t1_tr], 0x30
    mov eax, [t1_flags]
    and eax, 0x4000
    CHECK_EQ "jmp nt", eax, 0
    CHECK_EQ "jmp esp", [t1_esp], 0xb000
    mov eax, [t1_cr0]
    and eax, 8
    CHECK_EQ "cr0.ts", eax, 8
    clts
    CHECK_EQ "ebx kept", ebx, 0x12345678
    TSS_TYPE 0x28
    CHECK_EQ "main busy", eax, 0xb
    TSS_TYPE 0x30
    CHECK_EQ "task1 free", eax, 9
    str ax
    movzx eax, ax
    CHECK_EQ "tr", eax, 0x28

    ; ---- CALL to a TSS descriptor, IRET back ----
    mov word [TSS1], 0
    call 0x30:0
    CHECK_EQ "call count", [t1_count], 2
    mov eax, [t1_flags]
    and eax, 0x4000
    CHECK_EQ "call nt", eax, 0x4000
    CHECK_EQ "call link", [t1_link], 0x28
    pushfd
    pop eax
    and eax, 0x4000
    CHECK_EQ "main nt", eax, 0
    TSS_TYPE 0x30
    CHECK_EQ "task1 free", eax, 9
    TSS_TYPE 0x28
    CHECK_EQ "main busy", eax, 0xb

    ; ---- CALL and JMP through the GDT task gate ----
    mov word [TSS1], 0
    call 0x48:0
    CHECK_EQ "gate call count", [t1_count], 3
    CHECK_EQ "gate call link", [t1_link], 0x28
    jmp 0x48:0
    CHECK_EQ "gate jmp count", [t1_count], 4
    mov eax, [t1_flags]
    and eax, 0x4000
    CHECK_EQ "gate jmp nt", eax, 0

    ; ---- INT n through an IDT task gate ----
    mov word [TSS1], 0
    int 0x60
    CHECK_EQ "int count", [t1_count], 5
    CHECK_EQ "int link", [t1_link], 0x28
    clts

    ; ---- JMP to the busy current TSS: #GP(selector) ----
    TRY .busy_r
.busy_f:
    jmp 0x28:0
.busy_r:
    CHECK_EXC "busy tss", 13, 0x28, .busy_f

    ; ---- #DF through a task gate: #GP with the #GP gate not present ----
    and byte [IDT_BASE + 13 * 8 + 5], 0x7f
    mov ax, 0x1f8
df_fault:
    mov ds, ax
df_resume:
    CHECK_EQ "df err", [df_err], 0
    CHECK_EQ "df esp", [df_esp], 0xc000 - 4
    CHECK_EQ "df link", [df_link], 0x28
    CHECK_SAME "df eip", [df_eip], df_fault
    mov eax, [df_flags]
    and eax, 0x4000
    CHECK_EQ "df nt", eax, 0x4000
    TSS_TYPE 0x38
    CHECK_EQ "df task free", eax, 9
    clts
    jmp finish

; The second task: records what it sees, then returns the way it came
; (IRET if nested, else JMP to the main task).  Entered again, it resumes
; after the instruction that left it, hence the loops.
task1:
    inc dword [t1_count]
    str ax
    movzx eax, ax
    mov [t1_tr], eax
    pushfd
    pop eax
    mov [t1_flags], eax
    movzx eax, word [TSS1]
    mov [t1_link], eax
    mov [t1_esp], esp
    mov eax, cr0
    mov [t1_cr0], eax
    mov ebx, 0xdead
    test dword [t1_flags], 0x4000
    jz .jmp_back
    iretd
    jmp task1
.jmp_back:
    jmp 0x28:0
    jmp task1

; The #DF task: the error code is on its stack; the faulting task is
; resumed past the fault by editing its saved EIP.
df_task:
    mov eax, [esp]
    mov [df_err], eax
    mov [df_esp], esp
    movzx eax, word [TSS2]
    mov [df_link], eax
    mov eax, [TSS0 + 0x20]
    mov [df_eip], eax
    pushfd
    pop eax
    mov [df_flags], eax
    mov dword [TSS0 + 0x20], df_resume
    or byte [IDT_BASE + 13 * 8 + 5], 0x80
    add esp, 4
    iretd
    jmp df_task

    ROM_END
